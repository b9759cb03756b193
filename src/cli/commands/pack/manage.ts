// `workshop pack list`, `pack use NAME` and `pack remove NAME`.
import { join } from 'node:path';
import { usageError } from '../../../errors.ts';
import { removePack, usePack } from '../../../engine/pack-install.ts';
import { packSummaries } from '../../../engine/pack-summary.ts';
import { BUILTIN, installedPacks, packInUse, type PackRecord } from '../../../engine/packs.ts';
import { styler } from '../../../render/style.ts';
import { projectRoot, type Cli } from '../../cli.ts';
import { defineCommand } from '../../command.ts';

const pinOf = (r: PackRecord | undefined): string => (r === undefined ? 'built in' : [r.version === null ? '' : `v${r.version}`, r.commit === null ? '' : r.commit.slice(0, 12), r.tested === 'skipped' ? 'not tested' : ''].filter(Boolean).join(' ') || r.kind);

async function list(cli: Cli): Promise<number> {
  const inUse = packInUse(cli.home);
  const records = new Map(installedPacks(cli.home).map((r) => [r.name, r]));
  const packs = packSummaries(cli.home, join(projectRoot(), 'lessons')).map((s) => ({ ...s, inUse: s.name === inUse, record: records.get(s.name) ?? null }));
  if (cli.json) {
    cli.emit({ inUse, packs });
    return 0;
  }
  const st = styler(cli.color);
  for (const p of packs) cli.out(`${p.inUse ? st('cyan', '▶') : ' '} ${st('bold', p.name.padEnd(16))} ${String(p.chapters).padStart(2)} chapter(s)  ${p.done}/${p.steps} steps done  ${st('dim', `${pinOf(p.record ?? undefined)}${p.record ? `  from ${p.record.source}` : ''}`)}`);
  return 0;
}

const oneName = (cli: Cli, usage: string): string => {
  const [name] = cli.positionals;
  if (name === undefined) throw usageError('which pack?', `usage: workshop ${usage}; \`workshop pack list\` shows the names`);
  return name;
};

async function use(cli: Cli): Promise<number> {
  const name = oneName(cli, 'pack use NAME');
  usePack(cli.home, name);
  if (cli.json) cli.emit({ inUse: name });
  else cli.out(`Now using ${name === BUILTIN ? 'the built-in lessons' : `the pack ${name}`}: \`workshop\` says where you are, \`workshop show\` shows the step.`);
  return 0;
}

async function remove(cli: Cli): Promise<number> {
  const name = oneName(cli, 'pack remove NAME');
  const r = removePack(cli.home, name);
  if (cli.json) cli.emit({ removed: r });
  else cli.out(`Removed the pack ${name} (from ${r.source}). Its progress is kept in ${join(cli.home, 'progress', name)}: adding it again takes it up.`);
  return 0;
}

export const listCommand = defineCommand({
  meta: { name: 'pack list', summary: 'the packs installed in the home, the built-in lessons, and the one in use', usage: 'pack list', exit: '0' },
  run: list,
});
export const useCommand = defineCommand({
  meta: { name: 'pack use', summary: 'make a pack the lessons of every command (`builtin` for the built-in ones)', usage: 'pack use NAME', exit: '0; 2 no such pack' },
  maxArgs: 1,
  run: use,
});
export const removeCommand = defineCommand({
  meta: { name: 'pack remove', summary: 'remove an installed pack that is not in use (its progress is kept)', usage: 'pack remove NAME', exit: '0; 2 no such pack, or in use' },
  maxArgs: 1,
  run: remove,
});

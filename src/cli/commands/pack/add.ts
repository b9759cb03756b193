// `workshop pack add SOURCE [--name NAME] [--no-test]`: install a pack, proven before it is usable.
import { join } from 'node:path';
import { usageError } from '../../../errors.ts';
import { addPack, classifySource } from '../../../engine/pack-install.ts';
import { readiness } from '../../../engine/readiness.ts';
import { readCatalog } from '../../../lessons/catalog.ts';
import { styler } from '../../../render/style.ts';
import { runAttached } from '../../../sys/exec.ts';
import { flagString, projectRoot, type Cli } from '../../cli.ts';
import { defineCommand } from '../../command.ts';

/** `workshop test` on the staged pack, by this very CLI, its report on the learner's terminal. */
function prover(cli: Cli): (dir: string) => Promise<boolean> {
  const cliJs = process.argv[1]?.endsWith('.js') ? process.argv[1] : join(projectRoot(), 'dist', 'cli.js');
  return async (dir) => {
    cli.err(`workshop test (the self-test: solve, mutants and cleanup of every step)…`);
    const args = [cliJs, '--lessons', dir, '--home', cli.home, ...(cli.allowHost ? ['--allow-host'] : []), ...(cli.color ? [] : ['--no-color']), 'test'];
    return (await runAttached(process.execPath, args)) === 0;
  };
}

/** What `--no-test` leaves unproven, named so that the learner knows what was not checked. */
const unproven = (chapters: readonly string[], steps: number): string =>
  `not proven (--no-test): that solve makes each of the ${steps} step(s) pass, that every mutant fails and is diagnosed, that every control passes, and that each chapter's cleanup leaves nothing (chapters ${chapters.join(', ')}). \`workshop test\` with the pack in use proves it later.`;

async function add(cli: Cli): Promise<number> {
  const [arg] = cli.positionals;
  if (arg === undefined) throw usageError('which pack?', 'workshop pack add DIR | GIT-URL | NPM-NAME | FILE.tgz');
  const st = styler(cli.color);
  const out = await addPack({
    home: cli.home,
    source: classifySource(arg),
    name: flagString(cli.flags, 'name'),
    prove: cli.flags['no-test'] === true ? 'skip' : prover(cli),
    log: (l) => (cli.json ? undefined : cli.err(l)),
  });
  const cat = readCatalog(out.dir);
  // what each chapter requires, as doctor reports it
  const ready = await readiness(cat.chapters, { cache: undefined });
  const requires = cat.chapters.map((c, i) => {
    const r = ready.chapters[i];
    return { id: c.id, needs: r?.kind === 'loaded' ? r.needs : [], missing: r === undefined ? [] : r.kind === 'loaded' ? r.missing : r.problems };
  });
  const { record } = out;
  if (cli.json) {
    cli.emit({ pack: record, dir: out.dir, chapters: out.chapters, steps: out.steps, requires, ...(record.tested === 'skipped' ? { unproven: unproven(out.chapters, out.steps) } : {}) });
    return 0;
  }
  const pin = [record.version === null ? null : `version ${record.version}`, record.commit === null ? null : `commit ${record.commit.slice(0, 12)}`].filter((x) => x !== null).join(', ');
  cli.out(`${st('green', '✔')} installed ${st('bold', record.name)} (${out.chapters.length} chapter(s), ${out.steps} step(s)${pin ? `, ${pin}` : ''}) in ${out.dir}`);
  for (const r of requires) cli.out(`${r.missing.length === 0 ? st('green', '✔') : st('yellow', '-')} ${r.id.padEnd(12)} ${r.missing.length === 0 ? `ready${r.needs.length ? ` (needs ${r.needs.join(', ')})` : ''}` : `will be skipped: ${r.missing.join('; ')}`}`);
  if (record.tested === 'skipped') cli.err(st('yellow', `warning: ${unproven(out.chapters, out.steps)}`));
  cli.out(`\`workshop pack use ${record.name}\` makes it the lessons of every command.`);
  return 0;
}

export default defineCommand({
  meta: {
    name: 'pack add',
    summary: 'install a lesson pack from a folder, a git URL, an npm package, or a tarball (a file or an http(s) URL), after lint and `workshop test`',
    usage: 'pack add DIR|GIT-URL|NPM-NAME|FILE.tgz|URL.tgz [--name NAME] [--no-test]',
    exit: '0; 2 usage, 3 fetch failed, 4 lint or test failed',
    details: 'The pack is copied (git clone, npm pack) into HOME/packs/NAME, pinned to its package.json version or its commit. NAME is its package.json name or its folder name. Nothing is left behind when it fails.',
  },
  maxArgs: 1,
  flags: {
    name: { type: 'string', value: 'NAME', describe: 'the name to install it under (1-40 lowercase letters, digits, dashes)' },
    'no-test': { type: 'boolean', describe: 'skip `workshop test` (a warning lists what is then not proven)' },
  },
  run: add,
});

// Every text about the commands, derived from their tables (command.ts): `--help`, the list of
// a command's subcommands (its --help and the error for an unknown one use the same), and the
// README's command table.
import { GLOBAL_FLAGS, type FlagTable } from './args.ts';
import type { CommandDef } from './command.ts';

export function flagLines(table: FlagTable): string[] {
  return Object.entries(table).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.value ? ` ${s.value}` : ''}`;
    return `  ${left.padEnd(24)} ${s.describe}`;
  });
}

/** The commands below `def` that run something of their own, depth first, without the hidden ones. */
export async function leafCommands(def: CommandDef): Promise<CommandDef[]> {
  const out: CommandDef[] = [];
  for (const load of Object.values(def.subCommands ?? {})) {
    const sub = await load();
    if (sub.meta.hidden) continue;
    out.push(...(sub.subCommands ? await leafCommands(sub) : [sub]));
  }
  return out;
}

/** `  workshop classroom join URL CODE --name NAME` and its summary under it, for each subcommand. */
export async function subcommandList(def: CommandDef): Promise<string> {
  return (await leafCommands(def)).map((s) => `  workshop ${s.meta.usage}\n      ${s.meta.summary}`).join('\n');
}

export async function commandHelp(def: CommandDef): Promise<string> {
  const { meta, flags } = def;
  return [
    `usage: workshop ${meta.usage}`,
    '',
    meta.summary,
    ...(meta.details ? ['', meta.details] : []),
    ...(def.subCommands ? ['', 'subcommands:', await subcommandList(def), `(workshop ${meta.name} SUBCOMMAND --help shows its options)`] : []),
    ...(flags ? ['', 'options:', ...flagLines(flags)] : []),
    '',
    'global options:',
    ...flagLines(GLOBAL_FLAGS),
  ].join('\n');
}

/** `workshop --help`: every command of `defs` (commands/index.ts's loadAll) with its summary. */
export function overallHelp(defs: readonly CommandDef[]): string {
  const width = Math.max(...defs.map((d) => d.meta.name.length));
  return [
    'workshop: hands-on Linux container internals, checked against the real kernel',
    '',
    'usage: workshop [command] [options]      (no command: status)',
    '',
    'commands:',
    ...defs.map((d) => `  ${d.meta.name.padEnd(width)}  ${d.meta.summary}`),
    '',
    'global options:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'exit codes: 0 ok, 1 a check failed or residue is left, 2 usage, 3 environment, 4 lesson error',
    'workshop <command> --help shows the options of a command.',
  ].join('\n');
}

/** The README's table under "## Commands" (test/unit/commands-table.test.ts keeps them equal). */
export function commandsTable(defs: readonly CommandDef[]): string {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const rows = defs.map((d) => `| \`${cell(d.meta.usage)}\` | ${cell(d.meta.summary)} | ${d.meta.exit} |`);
  return ['| command | does | exit |', '|---|---|---|', ...rows].join('\n');
}

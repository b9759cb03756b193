// One table per command, in the citty style: each command file exports
// `defineCommand({ meta, flags, maxArgs, needs, subCommands, run })`. main.ts parses, checks the
// needs and prints --help from it; the README's command table (test/unit/commands-table.test.ts)
// and the start-up bundle's HOT list (scripts/build.mjs) are derived from it and from
// commands/index.ts. Nothing about a command is written anywhere else.
import type { FlagTable } from './args.ts';
import type { Cli } from './cli.ts';

/** What main.ts does before a command runs, so that no command file repeats it. */
export interface Needs {
  /** refuse without root (exit 3) */
  root?: true;
  /** refuse outside a VM unless --allow-host: the words complete "refusing to …" */
  vm?: string;
  /** hold the workspace lock for the whole command (it changes the system, not only progress) */
  lock?: true;
  /** run in a mount namespace with empty /tmp and /var/tmp of its own (engine/private-tmp.ts) */
  privateTmp?: true;
}

export interface CommandMeta {
  /** the words after `workshop`: `next`, `classroom serve` */
  name: string;
  summary: string;
  /** the usage line, without `workshop ` */
  usage: string;
  /** the exit codes, as the README's command table gives them */
  exit: string;
  /** more help text, after the summary */
  details?: string;
  /** left out of --help and the lists (an internal subcommand) */
  hidden?: true;
}

export type Lazy<T> = () => Promise<T>;

export interface CommandDef {
  meta: CommandMeta;
  flags?: FlagTable;
  /** positional arguments accepted at most (default 0) */
  maxArgs?: number;
  /** the needs of a command apply to its subcommands too */
  needs?: Needs;
  /** loaded only when named: `classroom serve` alone loads fastify */
  subCommands?: Readonly<Record<string, Lazy<CommandDef>>>;
  /** with subCommands: what runs when no subcommand is named (or an unknown one is) */
  run: (cli: Cli) => Promise<number>;
}

export const defineCommand = (def: CommandDef): CommandDef => def;

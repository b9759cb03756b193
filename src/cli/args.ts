// Pure argv parsing: global flags anywhere, per-command flags, `--flag=value`, `--` ends flags.
import { didYouMean, usageError } from '../errors.ts';

export type FlagSpec = { type: 'boolean' | 'string'; multiple?: boolean; short?: string; describe: string; value?: string };
export type FlagTable = Readonly<Record<string, FlagSpec>>;
export type FlagValues = Record<string, string | boolean | string[]>;

export const GLOBAL_FLAGS: FlagTable = {
  json: { type: 'boolean', describe: 'print one JSON document on stdout (no colour, no spinners)' },
  lessons: { type: 'string', value: 'DIR', describe: 'this command uses the lesson pack in DIR (or WORKSHOP_LESSONS; default: the pack in use)' },
  home: { type: 'string', value: 'DIR', describe: 'the workspace (default WORKSHOP_HOME or /var/lib/workshop)' },
  'no-color': { type: 'boolean', describe: 'no colours (NO_COLOR is honoured too)' },
  'allow-host': { type: 'boolean', describe: 'allow destructive commands outside a VM (or WORKSHOP_ALLOW_HOST=1)' },
  help: { type: 'boolean', short: 'h', describe: 'show help' },
  version: { type: 'boolean', short: 'V', describe: 'show the version' },
};

export interface Parsed {
  verb: string | undefined;
  positionals: string[];
  flags: FlagValues;
}

/**
 * `commandFlags(verb)` gives the flags of a verb once it is known; flags before the verb may only
 * be global ones. `lenient` skips unknown flags instead of refusing them (they are taken as
 * booleans): main.ts finds the words that name a subcommand that way, before it knows its flags.
 */
export function parseArgv(argv: readonly string[], commandFlags: (verb: string) => FlagTable | undefined, mode: 'strict' | 'lenient' = 'strict'): Parsed {
  let verb: string | undefined;
  const positionals: string[] = [];
  const flags: FlagValues = {};
  let table: FlagTable = GLOBAL_FLAGS;
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (onlyPositionals || a === '-' || !a.startsWith('-')) {
      if (verb === undefined && !onlyPositionals) {
        verb = a;
        const t = commandFlags(a);
        if (t) table = { ...GLOBAL_FLAGS, ...t };
      } else positionals.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositionals = true;
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
    } else {
      const short = a.slice(1);
      const found = Object.entries(table).find(([, s]) => s.short === short);
      if (!found && mode === 'lenient') continue;
      if (!found) throw usageError(`unknown flag ${a}`, hintFor(a.replace(/^-+/, ''), table, verb));
      name = found[0];
    }
    const spec = table[name];
    if (!spec && mode === 'lenient') continue;
    if (!spec) throw usageError(`unknown flag --${name}${verb ? ` for workshop ${verb}` : ''}`, hintFor(name, table, verb));
    if (spec.type === 'boolean') {
      if (inline !== undefined && mode === 'strict') throw usageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if ((value === undefined || (inline === undefined && value.startsWith('--'))) && mode === 'lenient') continue;
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw usageError(`--${name} needs a value (${spec.value ?? 'VALUE'})`);
    if (spec.multiple) {
      const prev = flags[name];
      flags[name] = [...(Array.isArray(prev) ? prev : []), value];
    } else flags[name] = value;
  }
  return { verb, positionals, flags };
}

function hintFor(name: string, table: FlagTable, verb: string | undefined): string {
  const guess = didYouMean(name, Object.keys(table));
  const list = `see workshop ${verb ? `${verb} ` : ''}--help`;
  return guess ? `did you mean --${guess}? (${list})` : list;
}

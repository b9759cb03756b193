// The verb of a command line, found before anything else loads (bin.ts), as cli/args.ts's
// parseArgv finds it: the first word that is neither a flag nor the value of a flag written apart
// from it (`--home DIR next`); none after `--`. Flags before the verb may only be global ones, and
// of those only these take a value (a unit test holds this list to args.ts's GLOBAL_FLAGS).
export const GLOBAL_VALUE_FLAGS: readonly string[] = ['--home', '--lessons'];

export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-' || !a.startsWith('-')) return a;
    if (a === '--') return undefined;
    if (GLOBAL_VALUE_FLAGS.includes(a)) i++;
  }
  return undefined;
}

// cli/verb.ts: the verb that bin.ts acts on before main.ts loads (the in-process lesson host for
// `next`, `check` and `watch`, the quick status) is the one cli/args.ts's parseArgv finds.
import { describe, expect, it } from 'vitest';
import { GLOBAL_FLAGS, parseArgv } from '../../src/cli/args.ts';
import { GLOBAL_VALUE_FLAGS, verbOf } from '../../src/cli/verb.ts';

const parsedVerb = (argv: string[]) => parseArgv(argv, () => undefined, 'lenient').verb;

describe('verbOf', () => {
  it('skips the value of a global flag written apart from it', () => {
    expect(verbOf(['--home', '/var/lib/ws', 'next'])).toBe('next');
    expect(verbOf(['--lessons', 'mypack', '--home', 'h', 'check'])).toBe('check');
    expect(verbOf(['--home=/h', 'next'])).toBe('next');
    expect(verbOf(['--json', 'next', '--home', 'x'])).toBe('next');
  });

  it('finds what parseArgv finds', () => {
    const lines = [['next'], ['--home', 'h', 'next'], ['--json', '--home', 'h', 'watch', '--advance'], ['--', 'next'], ['-', 'x'], ['--allow-host', 'solve', 'chroot'], [], ['--home'], ['--no-color', '--lessons=p', 'check']];
    for (const argv of lines) expect([argv, verbOf(argv)]).toEqual([argv, parsedVerb(argv)]);
  });

  it('knows every global flag that takes a value', () => {
    const taking = Object.entries(GLOBAL_FLAGS)
      .filter(([, f]) => f.type === 'string')
      .map(([name]) => `--${name}`);
    expect([...GLOBAL_VALUE_FLAGS].sort()).toEqual(taking.sort());
  });
});

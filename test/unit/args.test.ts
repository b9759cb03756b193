import { describe, expect, it } from 'vitest';
import { parseArgv, type FlagTable } from '../../src/cli/args.ts';
import { WorkshopError, didYouMean } from '../../src/errors.ts';
import { COMMANDS } from '../../src/cli/commands/index.ts';
import type { CommandDef } from '../../src/cli/command.ts';

const defs: Record<string, CommandDef> = Object.fromEntries(await Promise.all(Object.entries(COMMANDS).map(async ([verb, c]) => [verb, await c.load()] as const)));
const table = (verb: string): FlagTable | undefined => defs[verb]?.flags ?? (defs[verb] ? {} : undefined);
const parse = (...argv: string[]) => parseArgv(argv, table);
const usage = (fn: () => unknown): WorkshopError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof WorkshopError) return err;
    throw err;
  }
  throw new Error('expected a usage error');
};

describe('parseArgv', () => {
  it('takes the verb and its positionals', () => {
    expect(parse('show', 'chroot/enter')).toEqual({ verb: 'show', positionals: ['chroot/enter'], flags: {} });
  });
  it('accepts global flags before and after the verb, and --flag=value', () => {
    expect(parse('--json', 'list', '--home=/x', '--lessons', '/p').flags).toEqual({ json: true, home: '/x', lessons: '/p' });
  });
  it('collects a repeatable flag', () => {
    expect(parse('test', '--chapter', 'a', '--chapter=b').flags['chapter']).toEqual(['a', 'b']);
  });
  it('treats everything after -- as positionals', () => {
    expect(parse('show', '--', '--json').positionals).toEqual(['--json']);
  });
  it('rejects an unknown flag with a did-you-mean and exit code 2', () => {
    const e = usage(() => parse('next', '--jsn'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('--jsn');
    expect(e.hint).toContain('--json');
  });
  it('rejects a command flag given to another command', () => {
    expect(usage(() => parse('next', '--through')).message).toContain('unknown flag --through for workshop next');
  });
  it('rejects a string flag without its value', () => {
    expect(usage(() => parse('list', '--home')).message).toContain('--home needs a value');
  });
  it('rejects a value given to a boolean flag', () => {
    expect(usage(() => parse('list', '--json=yes')).message).toContain('takes no value');
  });
  it('knows the short flags -h and -V', () => {
    expect(parse('-h').flags).toEqual({ help: true });
    expect(parse('-V').flags).toEqual({ version: true });
  });
});

describe('didYouMean', () => {
  it.each([
    ['stauts', 'status'],
    ['nxt', 'next'],
    ['sol', 'solve'],
    ['chek', 'check'],
  ])('suggests %s -> %s', (typo, want) => {
    expect(didYouMean(typo, Object.keys(COMMANDS))).toBe(want);
  });
  it('suggests nothing for a word that is far from every command', () => {
    expect(didYouMean('frobnicate', Object.keys(COMMANDS))).toBeUndefined();
  });
});

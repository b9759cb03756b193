// The flags of the `workshop` that `test --as-written` puts on the shells' PATH (engine/aswritten.ts).
import { describe, expect, it } from 'vitest';
import { cliFlags } from '../../src/engine/aswritten.ts';
import { verbOf } from '../../src/cli/verb.ts';

// bin.ts finds the verb with verbOf; `next` with the built-in lessons and no --lessons runs them
// in workshop's own process, with no lesson host child to start.

describe('cliFlags', () => {
  it("leaves the verb the first word without a dash, so that bin.ts sees `next` (a value after `--home ` would hide it)", () => {
    expect(verbOf([...cliFlags('/var/lib/ws home', undefined, true), 'next'])).toBe('next');
    expect(verbOf([...cliFlags('/h', '/packs/mine', false), '--json', 'next'])).toBe('next');
  });

  it('names the lessons only when they are not the built-in ones, as the learner’s `workshop` does', () => {
    expect(cliFlags('/h', undefined, false)).toEqual(['--home=/h']);
    expect(cliFlags('/h', '/packs/mine', true)).toEqual(['--home=/h', '--lessons=/packs/mine', '--allow-host']);
  });
});

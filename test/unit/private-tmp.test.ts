import { describe, expect, it } from 'vitest';
import { keptUnder } from '../../src/engine/private-tmp.ts';

describe('keptUnder: what the private /tmp binds back in', () => {
  it('keeps the folders under the base, relative, outermost only', () => {
    expect(keptUnder('/tmp', ['/tmp/ws-home', '/tmp/pack/lessons', '/tmp/pack', '/var/lib/workshop', '/work/main'])).toEqual(['pack', 'ws-home']);
  });
  it('never keeps the base itself (that would be no private /tmp) or a look-alike prefix', () => {
    expect(keptUnder('/tmp', ['/tmp', '/tmpfoo/x'])).toEqual([]);
  });
});

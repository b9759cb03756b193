import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keptUnder, privateTmpCommand } from '../../src/engine/private-tmp.ts';

describe('keptUnder: what the private /tmp binds back in', () => {
  it('keeps the folders under the base, relative, outermost only', () => {
    expect(keptUnder('/tmp', ['/tmp/ws-home', '/tmp/pack/lessons', '/tmp/pack', '/var/lib/workshop', '/work/main'])).toEqual(['pack', 'ws-home']);
  });
  it('never keeps the base itself (that would be no private /tmp) or a look-alike prefix', () => {
    expect(keptUnder('/tmp', ['/tmp', '/tmpfoo/x'])).toEqual([]);
  });
});

describe.skipIf(!existsSync('/usr/bin/unshare'))('privateTmpCommand: a child started in a private /tmp', () => {
  it('binds back the folder of the Node it runs: a checkout under /tmp runs its own pinned node', async () => {
    // a CI clone in /tmp: the private build of the CLI lies in node_modules/.cache, Node in node_modules/node/bin
    const node = '/tmp/ws-clone/node_modules/node/bin/node';
    const c = await privateTmpCommand(['/tmp/ws-clone/node_modules/.cache/ws-it-dist-1/cli.js', 'test'], ['/tmp/ws-home', '/tmp/ws-clone/node_modules/.cache/ws-it-dist-1'], node);
    expect(c?.env['WS_KEEP_TMP']?.split('\n')).toEqual(['ws-clone/node_modules/.cache/ws-it-dist-1', 'ws-clone/node_modules/node/bin', 'ws-home']);
    expect(c?.args.slice(-3)).toEqual([node, '/tmp/ws-clone/node_modules/.cache/ws-it-dist-1/cli.js', 'test']);
  });
});

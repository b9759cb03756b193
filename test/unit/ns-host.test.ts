import { describe, expect, it } from 'vitest';
import { hostNamespaces, requireHostNamespaces } from '../../src/checks/namespaces.ts';

const INIT = { uts: 'uts:[1]', pid: 'pid:[2]', mnt: 'mnt:[3]', ipc: 'ipc:[4]', net: 'net:[5]', user: 'user:[6]' };
const OURS = { ...INIT, mnt: 'mnt:[99]' }; // workshop test's private mount namespace
const reader = (init: Record<string, string>, own: Record<string, string>) => async (pid: number) => (pid === 1 ? init : own);
const TYPES = ['uts', 'pid', 'mnt', 'ipc', 'net', 'user'];

describe("the host's namespaces, as the namespaces chapter's cleanup sees them", () => {
  it("are PID 1's, with workshop's own mount namespace", async () => {
    expect(await hostNamespaces(reader(INIT, OURS))).toEqual(OURS);
  });

  it("are workshop's own when /proc/1/ns cannot be read (EACCES)", async () => {
    expect(await hostNamespaces(reader({}, OURS))).toEqual(OURS);
  });

  it('refuse to kill anything when neither can be read', async () => {
    const host = await hostNamespaces(reader({}, {}));
    expect(() => requireHostNamespaces(host, TYPES)).toThrow("cannot read the host's namespaces (uts, pid, mnt, ipc, net, user) in /proc/1/ns or /proc/self/ns: nothing is killed");
  });

  it('refuse when only some links can be read', async () => {
    const { net: _net, ...partial } = INIT;
    const host = await hostNamespaces(reader(partial, {}));
    expect(() => requireHostNamespaces(host, TYPES)).toThrow(/\(net\)/);
  });
});

// Chapter 08 (cgroups) on the real kernel, v1 or v2, whichever this machine has: the self-test
// through the built CLI, then a learner typing the chapter's commands for that layout.
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectLayout } from '../../src/checks/cgroups.ts';
import { chapterSelfTest, openWorkshop, type Workshop, isRoot } from '../helpers/workshop.ts';
import { sleep } from '../helpers/wait.ts';

const exists = (p: string) => stat(p).then(() => true, () => false);

describe.skipIf(!isRoot)('chapter cgroups', () => {
  const { cli } = chapterSelfTest('/tmp/ws-nsa-cgit-', ['cgroups']);

  describe('a learner typing the commands for this machine\'s layout', () => {
    let ws: Workshop;
    let v1 = true;
    const pidsDir = () => (v1 ? '/sys/fs/cgroup/pids/ws-demo' : '/sys/fs/cgroup/ws-demo');
    const memDir = () => (v1 ? '/sys/fs/cgroup/memory/ws-demo' : '/sys/fs/cgroup/ws-demo');
    beforeAll(async () => {
      v1 = (await detectLayout()).version === 'v1';
      ws = await openWorkshop('/tmp/ws-nsa-cglearner-', { cli: cli() });
      expect((await ws.cli(['goto', 'cgroups/create'])).code).toBe(0);
    });
    afterAll(async () => {
      await ws.cli(['reset', 'cgroups']);
      await ws.dispose();
    });

    const typed = async (script: string) => {
      const r = await ws.shell('cgroups', script);
      expect(r.stderr).not.toMatch(/command not found|Permission denied/);
      return ws.cli(['next']);
    };

    it('accepts create, pids and memory, and names the layout it found', async () => {
      const create = await typed(v1 ? 'mkdir /sys/fs/cgroup/pids/ws-demo /sys/fs/cgroup/memory/ws-demo' : 'mkdir /sys/fs/cgroup/ws-demo');
      expect(create.code).toBe(0);
      const check = await ws.cli(['--json', 'check', 'cgroups/create']);
      expect(check.stdout).toContain(v1 ? 'cgroup v1 (one hierarchy per controller)' : 'cgroup v2 (one unified tree)');
      // The fork loop of the step; `Cannot fork` ends the script with an error, as it should.
      expect((await typed(`echo 20 > ${pidsDir()}/pids.max; sh -c 'echo $$ > ${pidsDir()}/cgroup.procs; for i in $(seq 30); do sleep 1 & done; wait' || true`)).code).toBe(0);
      const swap = v1 ? '' : `echo 0 > ${memDir()}/memory.swap.max; `;
      const limit = v1 ? 'memory.limit_in_bytes' : 'memory.max';
      expect((await typed(`echo 32M > ${memDir()}/${limit}; ${swap}sh -c 'echo $$ > ${memDir()}/cgroup.procs; exec dd if=/dev/zero of=/dev/null bs=64M count=1' || true`)).code).toBe(0);
    });

    it('rejects a container outside the cgroup, then accepts it once its PID is written into cgroup.procs', async () => {
      const dir = (await ws.cli(['path', 'cgroups'])).stdout.trim();
      const terminal = spawn('bash', [], { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] });
      terminal.stdin.write('unshare --uts --pid --fork --mount-proc sh\nhostname container\n');
      try {
        let r = await ws.cli(['next']);
        for (let i = 0; i < 20 && !r.stdout.includes('is in'); i++) r = (await sleep(100), await ws.cli(['next']));
        expect(r.code).toBe(1);
        const procs = v1 ? `${pidsDir()}/cgroup.procs ${memDir()}/cgroup.procs` : `${pidsDir()}/cgroup.procs`;
        expect((await typed(`PID=$(pgrep -n -x sh); echo $PID | tee ${procs}`)).code).toBe(0);
      } finally {
        terminal.stdin.end();
        await Promise.race([new Promise((res) => terminal.once('exit', res)), sleep(3000)]);
      }
    });

    it('removes ws-demo on reset', async () => {
      expect((await ws.cli(['reset', 'cgroups'])).code).toBe(0);
      expect(await exists(pidsDir())).toBe(false);
      expect(await exists(memDir())).toBe(false);
    });
  });
});

// Chapter 06 (namespaces) on the real kernel: the self-test through the built CLI, then a learner
// who types the chapter's commands into a second terminal, leaves the container running there,
// and runs `workshop next` in the first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesUnder } from '../../src/checks/proc.ts';
import { Terminal } from '../helpers/terminal.ts';
import { sleep } from '../helpers/wait.ts';
import { chapterSelfTest, openWorkshop, type Workshop, isRoot } from '../helpers/workshop.ts';


describe.skipIf(!isRoot)('chapter namespaces', () => {
  const { cli } = chapterSelfTest('/tmp/ws-nsa-it-', ['namespaces']);

  describe('a learner with a second terminal', () => {
    let ws: Workshop;
    let dir = '';
    const terminals: Terminal[] = [];
    beforeAll(async () => {
      ws = await openWorkshop('/tmp/ws-nsa-learner-', { cli: cli() });
      expect((await ws.cli(['goto', 'namespaces/uts'])).code).toBe(0);
      dir = (await ws.cli(['path', 'namespaces'])).stdout.trim();
    });
    afterAll(async () => {
      for (const t of terminals) await t.close();
      await ws.dispose();
    });

    /** Types the lines into a new terminal, then runs `workshop next` until it passes (3 s at most). */
    const inTerminal = async (lines: string[]) => {
      const t = new Terminal(dir);
      terminals.push(t);
      t.type(...lines);
      let r = await ws.cli(['next']);
      for (let i = 0; i < 30 && r.code !== 0; i++) {
        await sleep(100);
        r = await ws.cli(['next']);
      }
      return { t, r };
    };
    const step = async () => (JSON.parse((await ws.cli(['--json', 'status'])).stdout) as { current: string }).current;

    it('rejects the uts step while no container runs, and says what it looked for', async () => {
      const r = await ws.cli(['next']);
      expect(r.code).toBe(1);
      // The table wraps long lines: compare with the breaks joined.
      expect(r.stdout.replace(/\s+/g, ' ')).toContain('a UTS namespace of its own, renamed inside (hostname container)');
    });

    it('accepts each step typed as the chapter gives it', async () => {
      const steps: Array<[string, string[]]> = [
        ['uts', ['unshare --uts sh', 'hostname container', 'hostname']],
        ['pid', ['unshare --uts --pid --fork --mount-proc sh', 'hostname container', 'echo $$', 'ps']],
        ['mount-ns', ['unshare --uts --mount sh', 'hostname container', 'mount -t tmpfs tmpfs /mnt', 'findmnt /mnt']],
        ['pivot-root', ['unshare --uts --pid --mount --fork sh', 'hostname container', 'mount --bind rootfs rootfs', 'cd rootfs', 'mkdir -p oldroot', 'pivot_root . oldroot', 'cd /', 'umount -l /oldroot', 'exec /bin/sh', 'ls /']],
      ];
      let pivoted: Terminal | undefined;
      for (const [id, lines] of steps) {
        expect(await step()).toBe(`namespaces/${id}`);
        const { t, r } = await inTerminal(lines);
        expect(t.output).not.toMatch(/command not found|Invalid argument|Operation not permitted/);
        expect([id, r.code]).toEqual([id, 0]);
        if (id === 'pivot-root') pivoted = t;
        else await t.close();
      }
      // proc-fixed: in the pivoted container of the previous step.
      expect(await step()).toBe('namespaces/proc-fixed');
      pivoted?.type('mount -t proc proc /proc', 'ps');
      let r = await ws.cli(['next']);
      for (let i = 0; i < 30 && r.code !== 0; i++) r = (await sleep(100), await ws.cli(['next']));
      expect(r.code).toBe(0);
      await pivoted?.close();
      for (const [id, lines] of [
        ['ipc', ['unshare --uts --ipc sh', 'hostname container', 'ipcmk -Q', 'ipcs -q']],
        ['user', ['unshare --user --map-root-user --uts sh', 'hostname container', 'id', 'cat /proc/self/uid_map']],
        ['net', ['unshare --uts --net sh', 'hostname container', 'ip link']],
      ] as Array<[string, string[]]>) {
        expect(await step()).toBe(`namespaces/${id}`);
        const { t, r: res } = await inTerminal(lines);
        expect([id, res.code]).toEqual([id, 0]);
        await t.close();
      }
      const list = JSON.parse((await ws.cli(['--json', 'list'])).stdout) as { chapters: Array<{ id: string; steps: Array<{ status: string }> }> };
      expect(list.chapters.find((c) => c.id === 'namespaces')?.steps.map((s) => s.status)).toEqual(Array(8).fill('done'));
    });

    it('leaves no container behind once the chapter is reset', async () => {
      for (const t of terminals) await t.close();
      expect((await ws.cli(['reset', 'namespaces'])).code).toBe(0);
      expect(await processesUnder([ws.home])).toEqual([]);
    });
  });
});

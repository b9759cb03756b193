// Questions through the built CLI, as root, on chroot (fast here): `answer` shows the step's open
// question without its key, a wrong choice gets the explanation written for it and another try,
// and a predict-then-run is judged against what the probes read, not a key: here the kernel
// holds something else than the learner predicted. Answers never touch the progress.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerBook } from '../../src/engine/answer-record.ts';
import { isRoot, openWorkshop, type Workshop } from '../helpers/workshop.ts';

let ws: Workshop;
beforeAll(async () => {
  ws = await openWorkshop('/tmp/ws-it-questions-', { allowHost: true });
});
afterAll(async () => {
  await ws.dispose();
});

const json = async (args: readonly string[]): Promise<{ code: number | null; v: Record<string, unknown> }> => {
  const r = await ws.cli(['--json', ...args]);
  return { code: r.code, v: JSON.parse(r.stdout) as Record<string, unknown> };
};
const book = (): AnswerBook => JSON.parse(readFileSync(join(ws.home, 'answers.json'), 'utf8')) as AnswerBook;
const progress = (): string => readFileSync(join(ws.home, 'state.json'), 'utf8');

describe.skipIf(!isRoot)('workshop answer', () => {
  it('a multiple choice: shown without its key, wrong with its explanation, then right on the second try', async () => {
    expect((await ws.cli(['goto', 'chroot/busybox'])).code).toBe(0);
    const shown = await ws.cli(['answer']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/dynamic-in-chroot/);
    expect(shown.stdout).toMatch(/c\) \/proc inside the chroot/);
    expect(shown.stdout).not.toMatch(/\[x\]|does not need/);
    expect((await json(['status'])).v['question']).toBe('dynamic-in-chroot');
    const before = progress();

    const wrong = await ws.cli(['answer', 'dynamic-in-chroot', 'c']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/Not quite: c/);
    expect(wrong.stdout).toMatch(/does not need \/proc to start/);
    expect(wrong.stdout).toMatch(/Try again/);
    const right = await json(['answer', 'b']);
    expect(right).toMatchObject({ code: 0, v: { kind: 'right', tries: 2 } });
    expect(book().answers['chroot/dynamic-in-chroot']).toMatchObject({ tries: 2, firstTry: 'wrong', result: 'right' });
    expect((await json(['status'])).v['question']).toBeNull();
    expect(progress()).toBe(before);
    expect((await ws.cli(['answer', 'z'])).code, 'no question is open any more').toBe(0);
  });

  it('a typed answer: exact, wrong then right', async () => {
    expect((await ws.cli(['goto', 'chroot/symlinks'])).code).toBe(0);
    expect(await json(['answer', 'links-point-to', '/usr/bin/busybox'])).toMatchObject({ code: 1, v: { kind: 'wrong' } });
    expect(await json(['answer', 'links-point-to', '/bin/busybox'])).toMatchObject({ code: 0, v: { kind: 'right', tries: 2 } });
  });

  it('a prediction is judged against the real state once the step passes: the kernel holds what the learner did not predict', async () => {
    const restored = await ws.cli(['goto', 'chroot/mutable', '--restore', '--yes']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await json(['answer', 'write-inside', 'no'])).toMatchObject({ code: 0, v: { kind: 'predicted', prediction: 'no' } });
    // before the block: nothing to judge yet (rootfs/HELLO.txt exists, without the nonce)
    expect(await json(['answer', 'write-inside'])).toMatchObject({ code: 0, v: { kind: 'not-yet' } });
    // the step's block, as the learner types it
    const ran = await ws.shell('chroot', 'chroot rootfs /bin/busybox sh -c "echo $WORKSHOP_NONCE > /HELLO.txt"');
    expect(ran.code, ran.stderr).toBe(0);
    const judged = await json(['answer', 'write-inside']);
    expect(judged).toMatchObject({ code: 1, v: { kind: 'wrong', given: 'no', actual: 'true' } });
    expect(String(judged.v['why'])).toMatch(/not a copy/);
    expect(book().answers['chroot/write-inside']).toMatchObject({ tries: 1, firstTry: 'wrong', result: 'wrong' });
    // a question never blocks next
    expect((await ws.cli(['next'])).code).toBe(0);
  });
});

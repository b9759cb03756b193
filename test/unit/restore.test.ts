import { describe, expect, it } from 'vitest';
import type { ResidueItem } from '../../src/engine/inventory.ts';
import { describeBroken, describeNotDone, stepsToRecheck, wrongFolder } from '../../src/engine/recheck.ts';
import { chapterItems } from '../../src/engine/restore.ts';
import type { ChapterEntry } from '../../src/lessons/catalog.ts';
import type { LoadedChapter } from '../../src/lessons/load.ts';
import type { StepData } from '../../src/lessons/host-protocol.ts';
import { parseChapterMd } from '../../src/lessons/markdown.ts';

const md = '# T\n\nintro\n\n## Make {#make}\n\na\n\n## Mount {#mount}\n\nb\n\n## Write {#write}\n\nc\n\n## Clean {#clean}\n\nd\n';
const entry = { id: 'demo', order: 1, dir: '/l/01-demo', mdPath: '/l/01-demo/chapter.md', stepsPath: '/l/01-demo/steps.ts', text: parseChapterMd(md) } satisfies ChapterEntry;
const step = (undoes?: StepData['undoes']): StepData => ({ hints: ['h'], mutants: {}, controls: {}, ...(undoes === undefined ? {} : { undoes }) });
const chapter = (steps: Record<string, StepData>): LoadedChapter => ({ entry, def: { id: 'demo', title: 'T', requires: [], setup: false, env: false, removes: false, shellVars: false, steps } });
const at = (s: string, index: number) => ({ chapter: entry, step: s, index });

describe('which earlier steps next re-checks', () => {
  it('re-checks every earlier step that was done', () => {
    const ch = chapter({ make: step(), mount: step(), write: step(), clean: step() });
    expect(stepsToRecheck(ch, at('write', 2), () => true)).toEqual(['make', 'mount']);
  });

  it('skips a step never done (the learner jumped ahead with goto)', () => {
    const ch = chapter({ make: step(), mount: step(), write: step(), clean: step() });
    expect(stepsToRecheck(ch, at('write', 2), (s) => s !== 'mount')).toEqual(['make']);
  });

  it('skips what a later step, or the current one, undoes on purpose', () => {
    const ch = chapter({ make: step(), mount: step(), write: step(), clean: step(['write', 'mount']) });
    expect(stepsToRecheck(ch, at('clean', 3), () => true)).toEqual(['make']);
    expect(stepsToRecheck(chapter({ make: step(), mount: step('*'), write: step(), clean: step() }), at('write', 2), () => true)).toEqual(['mount']);
  });
});

describe('the line that names a broken step', () => {
  it('says its number, id and the first failing check', () => {
    const line = describeBroken({ step: 'mount', number: 2, title: 'Mount', failing: [{ status: 'fail', check: 'an overlay uses rootfs', expected: 'x', actual: 'no overlay uses rootfs' }, { status: 'error', check: 'b', error: 'e' }] });
    expect(line).toBe('step 2 (mount) no longer holds: an overlay uses rootfs: no overlay uses rootfs (and 1 more)');
  });
});

describe('what a restore says it will remove', () => {
  const dir = '/var/lib/workshop/chapters/btrfs';
  const items: ResidueItem[] = [
    { kind: 'mount', id: `${dir}/store`, detail: 'btrfs from /dev/loop0: mounted under home' },
    { kind: 'loop', id: '/dev/loop0', detail: `backed by ${dir}/store.img` },
    { kind: 'mount', id: '/var/lib/workshop/chapters/overlayfs/c-1/overlay', detail: 'overlay from none: mounted under home' },
    { kind: 'netns', id: 'ws-host', detail: 'a named network namespace' },
  ];
  it("lists the chapter's mounts and loops, never another chapter's things (a netns is the chapter's to name)", () => {
    expect(chapterItems(items, dir).map((i) => i.id)).toEqual([`${dir}/store`, '/dev/loop0']);
  });
});

describe('the lines next prints beside its table (issue 21 items 3, 8)', () => {
  it('names the steps skipped with goto, and the solve that catches up', () => {
    expect(describeNotDone('overlayfs', [{ step: 'dirs', number: 1, title: 'Dirs' }, { step: 'mount', number: 2, title: 'Mount' }])).toBe(
      'steps 1 (dirs) and 2 (mount) are not done, and this step builds on them: `workshop solve --through overlayfs/mount` catches up (or do them yourself: `workshop goto overlayfs/dirs`)',
    );
    expect(describeNotDone('btrfs', [{ step: 'image', number: 1, title: 'Image' }])).toMatch(/^step 1 \(image\) is not done, and this step builds on it: `workshop solve --through btrfs\/image`/);
    expect(describeNotDone('btrfs', [])).toBeUndefined();
  });

  it('says where the shell is when a row probed the chapter folder from elsewhere', () => {
    const dir = '/var/lib/workshop/chapters/btrfs';
    const rows = [{ status: 'fail' as const, check: 'store.img is a sparse file', expected: 'a sparse image file', actual: `${dir}/store.img: nothing there` }];
    expect(wrongFolder('/root', '/root', dir, rows, (p) => p === '/root/store.img')).toBe(`You are in ~, and the chapter's folder is ${dir}: the text's paths start there (cd $(workshop path)). ~/store.img is there: made in the wrong folder.`);
    expect(wrongFolder('/srv', '/root', dir, rows, () => false)).toBe(`You are in /srv, and the chapter's folder is ${dir}: the text's paths start there (cd $(workshop path)).`);
    expect(wrongFolder(dir, '/root', dir, rows, () => true)).toBeUndefined();
    expect(wrongFolder('/root', '/root', dir, [{ status: 'fail', check: 'br0 is up', expected: 'UP', actual: 'DOWN' }], () => true)).toBeUndefined();
  });
});

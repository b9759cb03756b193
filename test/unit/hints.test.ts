// `workshop hint` reads the hints from a cache keyed by the chapter's code, so that it does not
// import steps.ts on every call; an edited steps.ts (or a helper next to it) is read again.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fillHints, hintsCachePath, stepHints } from '../../src/engine/hints.ts';
import type { ChapterEntry } from '../../src/lessons/catalog.ts';
import type { LoadedChapter } from '../../src/lessons/load.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-hints-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function entry(): ChapterEntry {
  const stepsPath = join(dir, 'steps.ts');
  writeFileSync(stepsPath, 'export default {};\n');
  return { id: 'chroot', order: 1, dir, mdPath: join(dir, 'chapter.md'), stepsPath, text: { title: 'chroot', steps: [], problems: [] } as unknown as ChapterEntry['text'] };
}

/** A loader that counts its calls and returns these hints. */
function loader(hints: Record<string, string[]>) {
  let calls = 0;
  const load = async (): Promise<LoadedChapter> => {
    calls++;
    return { entry: undefined, def: { steps: Object.fromEntries(Object.entries(hints).map(([k, h]) => [k, { hints: h }])) } } as unknown as LoadedChapter;
  };
  return { load, calls: () => calls };
}

const later = (path: string) => utimesSync(path, new Date(), new Date(Date.now() + 5000));

describe('the hints cache', () => {
  it('imports the chapter once, then reads every step of it from the cache', async () => {
    const e = entry();
    const l = loader({ a: ['first', 'second'], b: ['only'] });
    const cache = hintsCachePath(dir);
    expect(await stepHints(e, 'a', cache, l.load)).toEqual(['first', 'second']);
    expect(await stepHints(e, 'b', cache, l.load)).toEqual(['only']);
    expect(await stepHints(e, 'none', cache, l.load)).toEqual([]);
    expect(l.calls()).toBe(1);
  });

  it('reads the chapter again when steps.ts changes', async () => {
    const e = entry();
    const cache = hintsCachePath(dir);
    await stepHints(e, 'a', cache, loader({ a: ['old'] }).load);
    writeFileSync(e.stepsPath, 'export default { changed: true };\n');
    later(e.stepsPath);
    const l = loader({ a: ['new'] });
    expect(await stepHints(e, 'a', cache, l.load)).toEqual(['new']);
    expect(l.calls()).toBe(1);
  });

  it('reads the chapter again when a helper next to steps.ts changes', async () => {
    const e = entry();
    writeFileSync(join(dir, 'texts.ts'), "export const H = 'old';\n");
    const cache = hintsCachePath(dir);
    await stepHints(e, 'a', cache, loader({ a: ['old'] }).load);
    writeFileSync(join(dir, 'texts.ts'), "export const H = 'newer';\n");
    const l = loader({ a: ['newer'] });
    expect(await stepHints(e, 'a', cache, l.load)).toEqual(['newer']);
    expect(l.calls()).toBe(1);
  });

  it('without a cache file (no home to write), loads every time', async () => {
    const e = entry();
    const l = loader({ a: ['x'] });
    await stepHints(e, 'a', undefined, l.load);
    await stepHints(e, 'a', undefined, l.load);
    expect(l.calls()).toBe(2);
  });
});

describe('fillHints', () => {
  const place = { chapter: 'chroot', dir: '/root/workshop/chapters/chroot', home: '/root/workshop', nonce: 'ab12cd34ef56', startedAt: 1 };

  it('fills in {{nonce}} and {{dir}} as chapter.md has them', () => {
    expect(fillHints(['echo "notes {{nonce}}" > {{dir}}/notes.txt', 'plain'], place, '/unused')).toEqual([`echo "notes ab12cd34ef56" > /root/workshop/chapters/chroot/notes.txt`, 'plain']);
  });

  it('before the chapter starts, says how to get a nonce and uses the folder given', () => {
    expect(fillHints(['{{nonce}} in {{dir}}'], undefined, '/h/chapters/chroot')).toEqual(['<the nonce: run `workshop next` to start the chapter> in /h/chapters/chroot']);
  });
});

// The lesson index keeps the parsed chapter.md files in the home, so `workshop status` does not
// parse 111 kB of markdown on every run; an edited chapter.md is parsed again.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCatalog } from '../../src/lessons/catalog.ts';

let dir: string;
const md = (title: string) => `# ${title}\n\nIntro.\n\n## First step {#first}\n\nDo it.\n`;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ws-catalog-'));
  mkdirSync(join(dir, 'pack', '01-one'), { recursive: true });
  writeFileSync(join(dir, 'pack', '01-one', 'chapter.md'), md('One'));
  writeFileSync(join(dir, 'pack', '01-one', 'steps.ts'), 'export default {};\n');
  mkdirSync(join(dir, 'home'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the parsed chapter.md cache', () => {
  it('writes the parsed texts, and reads them back instead of parsing', () => {
    const cache = join(dir, 'home', 'cache', 'catalog.json');
    const first = readCatalog(join(dir, 'pack'), { cache });
    expect(first.chapters[0]?.text.title).toBe('One');
    expect(existsSync(cache)).toBe(true);
    // the cached text wins while chapter.md is unchanged: proof that it is read, not re-parsed
    const file = JSON.parse(readFileSync(cache, 'utf8')) as { texts: Record<string, { text: { title: string } }> };
    for (const t of Object.values(file.texts)) t.text.title = 'From the cache';
    writeFileSync(cache, JSON.stringify(file));
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.text.title).toBe('From the cache');
  });

  it('parses chapter.md again when it changes', () => {
    const cache = join(dir, 'home', 'cache', 'catalog.json');
    readCatalog(join(dir, 'pack'), { cache });
    const mdPath = join(dir, 'pack', '01-one', 'chapter.md');
    writeFileSync(mdPath, md('One, edited'));
    utimesSync(mdPath, new Date(), new Date(Date.now() + 5000));
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.text.title).toBe('One, edited');
  });

  it('does not make a home that does not exist (reading writes no home)', () => {
    const cache = join(dir, 'nohome', 'cache', 'catalog.json');
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.text.title).toBe('One');
    expect(existsSync(join(dir, 'nohome'))).toBe(false);
  });

  it('is ASCII, and drops the texts of files that are gone when it is written again', () => {
    const cache = join(dir, 'home', 'cache', 'catalog.json');
    mkdirSync(join(dir, 'other', '01-two'), { recursive: true });
    writeFileSync(join(dir, 'other', '01-two', 'chapter.md'), md('Two ✔ …'));
    writeFileSync(join(dir, 'other', '01-two', 'steps.ts'), 'export default {};\n');
    readCatalog(join(dir, 'other'), { cache });
    readCatalog(join(dir, 'pack'), { cache });
    const text = readFileSync(cache, 'utf8');
    expect(text).toMatch(/^[\x00-\x7f]*$/);
    expect(Object.keys((JSON.parse(text) as { texts: object }).texts)).toHaveLength(2);
    expect(readCatalog(join(dir, 'other'), { cache }).chapters[0]?.text.title).toBe('Two ✔ …');
    rmSync(join(dir, 'other'), { recursive: true });
    writeFileSync(join(dir, 'pack', '01-one', 'chapter.md'), md('One, edited'));
    utimesSync(join(dir, 'pack', '01-one', 'chapter.md'), new Date(), new Date(Date.now() + 5000));
    readCatalog(join(dir, 'pack'), { cache });
    expect(Object.keys((JSON.parse(readFileSync(cache, 'utf8')) as { texts: object }).texts)).toEqual([join(dir, 'pack', '01-one', 'chapter.md')]);
  });

  it('reads the same catalog with and without the cache, which adds the scan of steps.ts', () => {
    const cache = join(dir, 'home', 'cache', 'catalog.json');
    readCatalog(join(dir, 'pack'), { cache });
    const cached = readCatalog(join(dir, 'pack'), { cache });
    expect(cached.chapters.map(({ stepKeys: _, ...c }) => c)).toEqual(readCatalog(join(dir, 'pack')).chapters);
    expect(cached.chapters[0]?.stepKeys?.keys).toEqual([]);
  });

  it('keeps the step keys of steps.ts, scanned again when steps.ts changes', () => {
    const cache = join(dir, 'home', 'cache', 'catalog.json');
    const steps = join(dir, 'pack', '01-one', 'steps.ts');
    writeFileSync(steps, "export default defineChapter({\n  steps: {\n    first: {},\n  },\n});\n");
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.stepKeys?.keys).toEqual([{ key: 'first', line: 3 }]);
    // read back from the cache, not scanned: proof by a doctored entry
    const file = JSON.parse(readFileSync(cache, 'utf8')) as { keys: Record<string, { key: string; keys: Array<{ key: string; line: number }> }> };
    const entry = file.keys[steps];
    if (!entry) throw new Error('no keys cached for steps.ts');
    entry.keys = [{ key: 'from-the-cache', line: 9 }];
    writeFileSync(cache, JSON.stringify({ format: 1, ...file }));
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.stepKeys?.keys).toEqual([{ key: 'from-the-cache', line: 9 }]);
    writeFileSync(steps, "export default defineChapter({\n  steps: {\n    first: {},\n    second: {},\n  },\n});\n");
    utimesSync(steps, new Date(), new Date(Date.now() + 5000));
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.stepKeys?.keys.map((k) => k.key)).toEqual(['first', 'second']);
  });
});

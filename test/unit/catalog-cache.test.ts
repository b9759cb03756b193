// The lesson index keeps the parsed chapter.md files in the home, so `workshop status` does not
// parse 111 kB of markdown on every run; an edited chapter.md is parsed again.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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

  it('keeps the bodies out of the index, one file per chapter.md, read only when a body is used', () => {
    const cache = join(dir, 'home', 'cache', 'catalog.json');
    const bodies = join(dir, 'home', 'cache', 'catalog.bodies');
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.text.steps[0]?.body).toBe('Do it.');
    expect(readFileSync(cache, 'utf8')).not.toContain('Do it.');
    const [file, ...more] = readdirSync(bodies);
    expect(more).toEqual([]);
    if (!file) throw new Error('no bodies file');
    // the titles come from the index alone: with the bodies file gone they are still there, and a
    // body is then parsed from chapter.md
    const saved = readFileSync(join(bodies, file), 'utf8');
    rmSync(join(bodies, file));
    const text = readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.text;
    expect(text?.steps.map((s) => s.title)).toEqual(['First step']);
    expect(text?.intro).toBe('Intro.');
    expect(text?.steps[0]?.body).toBe('Do it.');
    // read from its file, not parsed: proof by a doctored body
    writeFileSync(join(bodies, file), saved.replace('Do it.', 'From the bodies file'));
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.text.steps[0]?.body).toBe('From the bodies file');
    // a bodies file of another version of chapter.md is not used
    writeFileSync(join(bodies, file), saved.replace('Do it.', 'Stale').replace(/"key":"[^"]*"/, '"key":"0:0:0"'));
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.text.steps[0]?.body).toBe('Do it.');
    // an edited chapter.md gets its new bodies, and the old file is dropped
    writeFileSync(join(dir, 'pack', '01-one', 'chapter.md'), md('One').replace('Do it.', 'Do it again.'));
    utimesSync(join(dir, 'pack', '01-one', 'chapter.md'), new Date(), new Date(Date.now() + 5000));
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.text.steps[0]?.body).toBe('Do it again.');
    expect(readCatalog(join(dir, 'pack'), { cache }).chapters[0]?.text.steps[0]?.body).toBe('Do it again.');
    rmSync(join(dir, 'pack', '01-one'), { recursive: true });
    mkdirSync(join(dir, 'pack', '02-two'));
    writeFileSync(join(dir, 'pack', '02-two', 'chapter.md'), md('Two'));
    writeFileSync(join(dir, 'pack', '02-two', 'steps.ts'), 'export default {};\n');
    readCatalog(join(dir, 'pack'), { cache });
    expect(readdirSync(bodies)).toHaveLength(1);
    expect(readdirSync(bodies)).not.toContain(file);
  });
});

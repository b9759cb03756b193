// The FAMILIES registry (src/engine/families.ts) is the one place a check family is named: these
// tests hold the rest of the tree to it, so that a family added there cannot be half wired.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { StateFamily } from '../../src/contract/state.ts';
import { REMOVERS } from '../../src/engine/clean.ts';
import { FAMILIES } from '../../src/engine/families.ts';
import { viewsOf } from '../../src/engine/state/index.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const names = Object.keys(FAMILIES) as StateFamily[];
const lessonApi = readFileSync(`${SRC}lesson.ts`, 'utf8');

describe('the check families', () => {
  it.each(names)('%s: its files are named after it, in checks/, engine/state/ and render/state/', (family) => {
    expect(FAMILIES[family].probes[0]).toBe(`${family}.ts`);
    for (const dir of ['checks', 'engine/state', 'render/state']) expect(existsSync(`${SRC}${dir}/${family}.ts`), `src/${dir}/${family}.ts`).toBe(true);
  });

  it.each(names)('%s: the pack API exports from each of its probe modules', (family) => {
    for (const m of FAMILIES[family].probes) {
      expect(existsSync(`${SRC}checks/${m}`), `src/checks/${m}`).toBe(true);
      expect(lessonApi, `src/lesson.ts exports nothing from checks/${m}`).toContain(`from './checks/${m}'`);
    }
  });

  it.each(names)('%s: a bare family name in a chapter means its default view', (family) => {
    expect(FAMILIES[family].view.family).toBe(family);
    expect(viewsOf(family)).toEqual([FAMILIES[family].view]);
  });

  it('names only residue kinds that clean removes, and clean removes none that no family leaves', () => {
    const left = new Set(names.flatMap((f) => FAMILIES[f].residue));
    expect([...left].sort()).toEqual(Object.keys(REMOVERS).sort());
  });

  it('has clean remove the kinds in the only order that works: processes, mounts, loops, links, namespaces, cgroups, /tmp folders', () => {
    expect(Object.keys(REMOVERS)).toEqual(['process', 'mount', 'loop', 'link', 'netns', 'cgroup', 'tmpdir']);
  });

  it('gives every family its own heading', () => {
    const titles = names.map((f) => FAMILIES[f].title);
    expect(new Set(titles).size).toBe(names.length);
  });
});

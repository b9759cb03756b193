// Every classroom suite that opens stores from STORES drops them again: for PostgreSQL each
// factory starts a throwaway server, and a suite without cleanup() left one running per run
// (22 of them were found on the build machine, from two such files).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..', 'classroom');
const suites = readdirSync(dir).filter((f) => f.endsWith('.test.ts'));

describe('the classroom suites', () => {
  it('are found', () => expect(suites.length).toBeGreaterThan(10));

  it.each(suites.filter((f) => /\bSTORES\b/.test(readFileSync(join(dir, f), 'utf8'))))('%s cleans up the stores it opens', (f) => {
    expect(readFileSync(join(dir, f), 'utf8')).toMatch(/\.cleanup\(\)/);
  });
});

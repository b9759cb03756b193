// Every classroom suite that opens stores from STORES drops them again: for PostgreSQL each
// factory starts a throwaway server, and a suite without cleanup() left one running per run
// (22 of them were found on the build machine, from two such files, and later 6 more from a
// third that cleaned up only its SQLite store).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..', 'classroom');
const suites = readdirSync(dir).filter((f) => f.endsWith('.test.ts'));

describe('the classroom suites', () => {
  it('are found', () => expect(suites.length).toBeGreaterThan(10));

  it.each(suites.filter((f) => /\bSTORES\b/.test(readFileSync(join(dir, f), 'utf8'))))('%s cleans up the stores it opens', (f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    expect(text).toMatch(/\.cleanup\(\)/);
    // a suite run for each store drops that store: a cleanup of the SQLite one alone leaves PostgreSQL's server up
    if (/describe\.each\(STORES\)/.test(text)) expect(text).toMatch(/factory\.cleanup\(\)/);
  });
});

// The throwaway PostgreSQL's own rules: which binaries it picks, and when its tests skip.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pgSupport, skipPg } from './pg.ts';

const roots: string[] = [];
function fakeRoot(majors: readonly number[]): string {
  const root = mkdtempSync(join(tmpdir(), 'ws-pgroot-'));
  roots.push(root);
  for (const m of majors) {
    mkdirSync(join(root, String(m), 'bin'), { recursive: true });
    for (const tool of ['initdb', 'pg_ctl']) writeFileSync(join(root, String(m), 'bin', tool), '');
  }
  return root;
}

describe('the throwaway PostgreSQL', () => {
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it("prefers Debian 12's PostgreSQL 15, else the newest major", () => {
    expect(pgSupport(fakeRoot([13, 15, 17]))).toEqual({ ok: true, bin: expect.stringMatching(/\/15\/bin$/) });
    expect(pgSupport(fakeRoot([16, 17]))).toEqual({ ok: true, bin: expect.stringMatching(/\/17\/bin$/) });
  });

  it('skips on a machine without PostgreSQL, saying how to install it, but never on CI', () => {
    const none = pgSupport(fakeRoot([]));
    expect(none.ok).toBe(false);
    expect(none.ok ? '' : none.reason).toContain('WORKSHOP_CLASSROOM_PG=1 bash vagrant/provision.sh');
    expect(pgSupport('/nonexistent/postgresql').ok).toBe(false);
    expect(skipPg(none, {})).toBe(true);
    expect(skipPg(none, { CI: 'true' })).toBe(false);
    expect(skipPg({ ok: true, bin: '/x' }, {})).toBe(false);
  });
});

// Wafer ancestry and the overlay a stack must be, judged on a recorded three-lowerdir mountinfo line.
import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../src/checks/mounts.ts';
import { judgeOverlay } from '../../src/checks/overlayfs.ts';
import { readFileSync } from 'node:fs';
import { judgeLoneStack, parseParentFile, stackExpectation, traceAncestry } from '../../src/checks/wafers.ts';

const parents: Record<string, string> = { c: 'b', b: 'a' };
const parentOf = (w: string): string | null => parents[w] ?? null;

describe('traceAncestry', () => {
  it.each([
    ['c', ['c', 'b', 'a']],
    ['b', ['b', 'a']],
    ['a', ['a']],
  ])('traces %s down to the bottom wafer', (name, chain) => {
    expect(traceAncestry(name, parentOf)).toEqual({ ok: true, chain });
  });

  it('reports a loop in the parent files instead of hanging', () => {
    expect(traceAncestry('x', (w) => (w === 'x' ? 'y' : 'x'))).toEqual({ ok: false, reason: 'the parent files loop: x -> y -> x', chain: ['x', 'y'] });
  });

  it('reads a parent file as its first non-empty line', () => {
    expect(parseParentFile('archbase\n')).toBe('archbase');
    expect(parseParentFile('\n  archbase  \nignored\n')).toBe('archbase');
    expect(parseParentFile('\n')).toBeNull();
  });
});

describe('stackExpectation', () => {
  it('puts the nearest parent first, the top wafer as upper and its work folder', () => {
    expect(stackExpectation('/w', ['c', 'b', 'a'])).toEqual({ lower: ['/w/b/data', '/w/a/data'], upper: '/w/c/data', work: '/w/c/work', writable: true });
  });
});

describe('a three-level stack in mountinfo', () => {
  // The shape of the line the reference script mounts (source wafers-NAME, absolute layers).
  const mount = (lower: string, upper: string) =>
    parseMountinfo(`88 27 0:52 / /w/machines/c rw,relatime - overlay wafers-c rw,lowerdir=${lower},upperdir=${upper},workdir=/w/wafers/c/work,uuid=on\n`);
  const expect3 = stackExpectation('/w/wafers', ['c', 'b', 'a']);

  it('accepts the right stack', () => {
    expect(judgeOverlay(mount('/w/wafers/b/data:/w/wafers/a/data', '/w/wafers/c/data'), '/w/machines/c', expect3, '/w').ok).toBe(true);
  });

  it('rejects the wrong lowerdir order', () => {
    expect(judgeOverlay(mount('/w/wafers/a/data:/w/wafers/b/data', '/w/wafers/c/data'), '/w/machines/c', expect3, '/w')).toMatchObject({
      ok: false,
      actual: 'lowerdir order is wafers/a/data:wafers/b/data, expected wafers/b/data:wafers/a/data',
    });
  });

  it('rejects a stack that misses the parent', () => {
    expect(judgeOverlay(mount('/w/wafers/a/data', '/w/wafers/c/data'), '/w/machines/c', expect3, '/w')).toMatchObject({ ok: false, actual: 'lowerdir is wafers/a/data, expected wafers/b/data:wafers/a/data' });
  });

  it("rejects a stack whose upperdir is the parent's data", () => {
    expect(judgeOverlay(mount('/w/wafers/c/data:/w/wafers/a/data', '/w/wafers/b/data'), '/w/machines/c', expect3, '/w')).toMatchObject({
      ok: false,
      actual: 'lower and upper are swapped: wafers/b/data is the upperdir and wafers/c/data a lowerdir; lowerdir is wafers/c/data:wafers/a/data, expected wafers/b/data:wafers/a/data; upperdir is wafers/b/data, expected wafers/c/data',
    });
  });
});

describe('a wafer stacked with no parent (recorded bind mount)', () => {
  const bind = parseMountinfo(readFileSync(new URL('../fixtures/mountinfo/wafer-bind-alone.txt', import.meta.url), 'utf8'));
  const at = '/tmp/ws-h15s/machines/archbase';
  const data = '/tmp/ws-h15s/wafers/archbase/data';

  it('accepts a bind mount of its own data', () => {
    expect(judgeLoneStack(bind, at, data, true, '/tmp/ws-h15s')).toEqual({ ok: true, actual: 'a bind mount of wafers/archbase/data (ext4)' });
  });

  it('rejects a bind mount of another folder, and says how to fix it', () => {
    expect(judgeLoneStack(bind, at, data, false, '/tmp/ws-h15s')).toMatchObject({ ok: false, hint: 'umount machines/archbase, then mount --bind wafers/archbase/data machines/archbase' });
  });

  it('rejects nothing mounted', () => {
    expect(judgeLoneStack([], at, data, false, '/tmp/ws-h15s')).toMatchObject({ ok: false, actual: 'nothing is mounted at machines/archbase' });
  });

  it('accepts an overlay with only that lowerdir (read-only), not one stacked on another wafer', () => {
    const ro = parseMountinfo(`90 27 0:53 / ${at} ro,relatime - overlay wafers-archbase ro,lowerdir=${data},redirect_dir=on\n`);
    expect(judgeLoneStack(ro, at, data, false, '/tmp/ws-h15s').ok).toBe(true);
    const two = parseMountinfo(`90 27 0:53 / ${at} ro,relatime - overlay wafers-archbase ro,lowerdir=${data}:/tmp/ws-h15s/wafers/x/data,redirect_dir=on\n`);
    expect(judgeLoneStack(two, at, data, false, '/tmp/ws-h15s').ok).toBe(false);
  });
});

describe('the chapter text and the reference script', () => {
  it('shows exactly the shipped script in the heredoc of the script step', () => {
    const md = readFileSync(new URL('../../lessons/03-wafers/chapter.md', import.meta.url), 'utf8');
    const ref = readFileSync(new URL('../../lessons/03-wafers/wafers', import.meta.url), 'utf8');
    const m = /cat > bin\/wafers <<'EOF'\n([\s\S]*?)^EOF$/m.exec(md);
    expect(m?.[1]).toBe(ref);
  });
});

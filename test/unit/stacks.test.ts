// Wafer ancestry and the overlay a stack must be, judged on a recorded three-lowerdir mountinfo line.
import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../src/checks/mounts.ts';
import { judgeOverlay } from '../../src/checks/overlay.ts';
import { parseParentFile, stackExpectation, traceAncestry } from '../../src/checks/stacks.ts';

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
      actual: 'lowerdir is wafers/c/data:wafers/a/data, expected wafers/b/data:wafers/a/data; upperdir is wafers/b/data, expected wafers/c/data',
    });
  });
});

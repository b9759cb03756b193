// The parsers that an outside author wrote by hand (issue 27) are part of the lesson API: mountinfo
// text, /proc/PID/status (with its State, to tell a zombie) and uid_map. Through workshop/lesson's
// own entry, on output recorded on this machine (test/fixtures/README.md says how).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mapId, parseIdMap, parseMountinfo, parseStatus } from '../../src/lesson.ts';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');

describe('the lesson API parsers', () => {
  it('parseMountinfo reads a recorded overlay line with its layers and options', () => {
    const overlay = parseMountinfo(fixture('mountinfo/overlay-relative.txt')).filter((m) => m.fsType === 'overlay');
    expect(overlay).toHaveLength(1);
    expect(overlay[0]?.mountPoint).toMatch(/\/merged$/);
    expect(overlay[0]?.superOptions).toBe('rw,lowerdir=rootfs,upperdir=upper,workdir=work,uuid=on');
    // the propagation of a mount (what a mount-propagation chapter checks): /run/netns is shared
    const netns = parseMountinfo(fixture('mountinfo/host.txt')).find((m) => m.mountPoint === '/run/netns');
    expect(netns?.optionalFields).toEqual(['shared:1']);
    expect(parseMountinfo(fixture('mountinfo/host.txt')).find((m) => m.mountPoint === '/proc')?.optionalFields).toEqual([]);
  });

  it('parseStatus tells a zombie (its /proc/PID still readable) from a sleeping process', () => {
    const zombie = parseStatus(fixture('proc/status-zombie.txt'));
    expect({ name: zombie.name, state: zombie.state }).toEqual({ name: 'sleep', state: 'Z' });
    expect(zombie.ppid).toBeGreaterThan(0);
    expect(parseStatus(fixture('proc/status-host.txt')).state).toBe('R');
    expect(parseStatus(fixture('proc/status-unshare-pid.txt')).nspid).toHaveLength(2);
  });

  it('parseIdMap reads a hand-written uid_map of two ranges', () => {
    const map = parseIdMap(fixture('ns/uid-map-two-ranges.txt'));
    expect(map).toEqual([
      { inside: 0, outside: 100000, count: 1000 },
      { inside: 1000, outside: 1000, count: 1 },
    ]);
    expect([mapId(map, 0), mapId(map, 999), mapId(map, 1000), mapId(map, 1001)]).toEqual([100000, 100999, 1000, null]);
    expect(parseIdMap(fixture('ns/uid-map-unmapped.txt'))).toEqual([]);
  });
});

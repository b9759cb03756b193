import { describe, expect, it } from 'vitest';
import { explainError, explainValue, renderResults } from '../../src/render/table.ts';

describe('explainError: a probe error in words a learner can act on', () => {
  it.each([
    ["ENOENT: no such file or directory, open '/w/chapters/chroot/rootfs/bin/busybox'", '/w/chapters/chroot/rootfs/bin/busybox does not exist. Make it first, as the step says'],
    ["EACCES: permission denied, open '/var/lib/workshop/state.json'", 'permission denied on /var/lib/workshop/state.json; run workshop as root (sudo -i, then workshop)'],
    ["ELOOP: too many symbolic links encountered, stat '/w/a'", '/w/a is a symlink loop: a link that points back to itself'],
    ["ENOTDIR: not a directory, scandir '/w/file/x'", 'a part of /w/file/x is a file, not a folder'],
    ['Command failed with ENOENT: ./container.sh rootfs\nspawn ./container.sh ENOENT', './container.sh could not be run: it does not exist (are you in the chapter folder?)'],
    ['Command failed with ENOENT: btrfs subvolume show x\nspawn btrfs ENOENT', 'btrfs could not be run: it does not exist on this machine (workshop doctor lists what is missing)'],
    ['spawn ./ctr EACCES', './ctr could not be run: it is not executable (chmod +x ./ctr)'],
    ['ip -j link: unexpected output', 'ip -j link: unexpected output (the probe itself could not run)'],
  ])('%s', (raw, plain) => {
    expect(explainError(raw)).toBe(plain);
  });
});

describe('explainValue: binary content is named, not pasted', () => {
  it('replaces a quoted run of NUL bytes with its size', () => {
    expect(explainValue(`${JSON.stringify('\u0000'.repeat(32))} there`)).toBe('binary data (32 bytes) there');
  });
  it('keeps quoted text, even with a newline or a tab', () => {
    expect(explainValue('"hello\\nworld\\t!" in greeting.txt')).toBe('"hello\\nworld\\t!" in greeting.txt');
  });
  it('is applied to the table rows', () => {
    const out = renderResults([{ status: 'fail', check: 'greeting.txt says hello', expected: '"hello"', actual: `${JSON.stringify('\u0000\u0001\u0002\u0003ELF')} there` }], false, 80);
    expect(out).toContain('binary data (7 bytes) there');
    expect(out).not.toContain('\\u0000');
  });
});

import { describe, expect, it } from 'vitest';
import { explainError, explainValue, renderResults, splitHint } from '../../src/render/table.ts';

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

// Issue 21, the walk at 80 columns: a hint's command wrapped at a space pasted as two commands
// (`find rootfs` ⏎ `-samefile …`). The command is printed on a line of its own, whole.
describe('a hint\'s command is printed whole, on a line of its own', () => {
  it.each([
    ['Remove the hard links, then install the symlinks: find rootfs -samefile rootfs/bin/busybox ! -path rootfs/bin/busybox -delete; chroot rootfs /bin/busybox --install -s', 'Remove the hard links, then install the symlinks:', 'find rootfs -samefile rootfs/bin/busybox ! -path rootfs/bin/busybox -delete; chroot rootfs /bin/busybox --install -s'],
    ['As root, remove it and make it again: rm uid.txt; id -u | tee uid.txt', 'As root, remove it and make it again:', 'rm uid.txt; id -u | tee uid.txt'],
    ['umount /tmp/x/overlay, then: mount -t overlay -o lowerdir=rootfs,upperdir=/tmp/x/upper,workdir=/tmp/x/workdir none /tmp/x/overlay', 'umount /tmp/x/overlay, then:', 'mount -t overlay -o lowerdir=rootfs,upperdir=/tmp/x/upper,workdir=/tmp/x/workdir none /tmp/x/overlay'],
    // only a command: seen in the walk, `btrfs send -p … -f` ⏎ `base-inc` and `iptables … -j` ⏎ `MASQUERADE`
    ['btrfs send -p store/base-snapshot store/base-snapshot2 -f base-inc', '', 'btrfs send -p store/base-snapshot store/base-snapshot2 -f base-inc'],
    ['iptables -t nat -A POSTROUTING -s 10.0.0.0/16 -o ws-uplink -j MASQUERADE', '', 'iptables -t nat -A POSTROUTING -s 10.0.0.0/16 -o ws-uplink -j MASQUERADE'],
  ])('%s', (hint, words, command) => {
    expect(splitHint(hint)).toEqual({ words, command });
  });
  it.each([
    'Make it from a root shell (sudo -i).',
    'Run systemd-detect-virt --vm | tee vm.txt again.',
    'That copy is in the way: btrfs receive says "File exists". Delete it first.',
    'Note: the container must still run',
    'Check ip_forward, the NAT rule and the default route in the container.',
    'sudo -i, then run workshop again',
    'umount /tmp/x/overlay, then mount again with lowerdir=rootfs and the empty folder as upperdir',
  ])('leaves words alone: %s', (hint) => {
    expect(splitHint(hint)).toEqual({ words: hint, command: null });
  });
  it('prints the words wrapped in the hint column and the command under them, unwrapped, at 80 columns', () => {
    const command = 'find rootfs -samefile rootfs/bin/busybox ! -path rootfs/bin/busybox -delete; chroot rootfs /bin/busybox --install -s';
    const out = renderResults([{ status: 'fail', check: 'rootfs/bin/sh is a symlink to /bin/busybox', expected: 'a symlink to /bin/busybox', actual: 'a hard link', hint: `Remove the hard links, then install the symlinks: ${command}` }], false, 80).split('\n');
    expect(out).toContain('      hint      Remove the hard links, then install the symlinks:');
    expect(out).toContain(`                ${command}`);
    const only = renderResults([{ status: 'fail', check: 'base-inc is incremental', expected: 'incremental', actual: 'full', hint: 'btrfs send -p store/base-snapshot store/base-snapshot2 -f base-inc' }], false, 60).split('\n');
    expect(only.slice(-3, -2)).toEqual(['      hint      btrfs send -p store/base-snapshot store/base-snapshot2 -f base-inc']);
  });
});

// Issue 28, seen in a drill's table: a hint's command printed flush left on the line after `hint`,
// apart from its row. It is indented under the values (a copy of it runs the same), and a hint
// that is only a command is on the hint line itself.
describe("a hint's command stays in its row", () => {
  const row = (hint: string) => renderResults([{ status: 'fail', check: 'container.sh is an executable file', expected: 'an execute bit (x) in its mode', actual: 'mode 0644', hint }], false, 80).split('\n');
  it('only a command: on the hint line, under the values', () => {
    const out = row('chmod +x container.sh');
    expect(out).toContain('      hint      chmod +x container.sh');
    expect(out).not.toContain('      hint');
  });
  it('words and a command: the command under the words, never flush left', () => {
    const out = row('Give it the execute bit: chmod +x container.sh');
    expect(out).toEqual(expect.arrayContaining(['      hint      Give it the execute bit:', '                chmod +x container.sh']));
    expect(out.filter((l) => l.length > 0 && !l.startsWith(' ')), 'every line of the table is indented').toEqual([]);
  });
});

// The btrfs store: images (sparse or not) and their loop devices, subvolumes, send streams.
import type { BtrfsPicture } from '../../contract/state.ts';
import { type St, mib, rel, size, yes } from './draw.ts';

export function drawBtrfs(p: BtrfsPicture, dir: string, st: St): string[] {
  const lines: string[] = [];
  if (p.images.length === 0) lines.push(yes(st, false, 'no btrfs image in the chapter folder yet'));
  for (const img of p.images) {
    const sparse = img.allocatedBytes < img.apparentBytes;
    lines.push(`${st('bold', rel(img.file, dir))}  ${mib(img.apparentBytes)} apparent, ${mib(img.allocatedBytes)} on disk ${sparse ? st('green', '(sparse)') : st('red', '(not sparse)')}${img.btrfs ? '' : st('red', ', no btrfs')}`);
    if (img.loops.length === 0) lines.push(`  └─ ${st('dim', 'no loop device')}`);
    img.loops.forEach((l, i) => {
      const where = l.mountPoints.length === 0 ? st('dim', 'not mounted') : l.mountPoints.map((m) => rel(m, dir)).join(', ');
      const twice = l.mountPoints.length > 1 ? st('yellow', ` (mounted ${l.mountPoints.length} times)`) : '';
      lines.push(`  ${i === img.loops.length - 1 ? '└' : '├'}─ ${l.device} → ${where}${twice}`);
    });
    if (img.loops.length > 1) lines.push(`  ${st('yellow', `! ${img.loops.length} loop devices on one image`)}`);
  }
  for (const s of p.stores) {
    lines.push('', `${st('bold', `${rel(s.mountPoint, dir)}/`)} ${st('dim', 'subvolumes')}`);
    if (s.error) lines.push(`  ${st('yellow', `! ${s.error}`)}`);
    const byUuid = new Map(s.subvolumes.filter((v) => v.uuid).map((v) => [v.uuid ?? '', v.path]));
    s.subvolumes.forEach((v, i) => {
      const links = [v.parentUuid ? `snapshot of ${byUuid.get(v.parentUuid) ?? v.parentUuid}` : '', v.receivedUuid ? `received from ${byUuid.get(v.receivedUuid) ?? v.receivedUuid}` : ''].filter((x) => x !== '');
      lines.push(`  ${i === s.subvolumes.length - 1 ? '└' : '├'}─ ${v.path} ${v.readOnly ? st('cyan', '[ro]') : '[rw]'}${links.length > 0 ? `  ${st('dim', links.join(', '))}` : ''}`);
    });
    if (s.subvolumes.length === 0 && !s.error) lines.push(`  └─ ${st('dim', '(none)')}`);
  }
  if (p.streams.length > 0) lines.push('', st('bold', 'send streams'));
  for (const s of p.streams) lines.push(`  ${rel(s.file, dir)}  ${size(s.bytes)}  ${s.kind === 'full' ? 'full' : st('cyan', 'incremental')}`);
  return lines;
}

// LVM thin layers: the pool, its thin volumes with their flags and origins, the boot entries.
import type { LvmPicture } from '../../contract/state.ts';
import { type St, rel } from './draw.ts';

export function drawLvm(p: LvmPicture, dir: string, st: St): string[] {
  if (!p.available) return [`${st('yellow', '!')} no LVM picture here: ${p.reason ?? 'device-mapper is missing'}`, ...p.bootEntries.map((b) => `  boot entry ${rel(b.file, dir)} → root=${b.root ?? '?'}`)];
  const lines = [`${st('bold', `VG ${p.vg}`)}`];
  if (p.pools.length === 0) lines.push(`└─ ${st('red', '✘ no thin pool')}`);
  for (const pool of p.pools) {
    lines.push(`└─ pool ${pool.name}  ${pool.dataPercent === null ? '' : st('cyan', `data ${pool.dataPercent.toFixed(2)}%`)}`);
    const thin = p.volumes.filter((v) => v.pool === pool.name);
    thin.forEach((v, i) => {
      const flags = [v.readOnly ? 'ro' : 'rw', v.active ? 'active' : 'inactive', v.skipsActivation ? 'activation skip' : ''].filter((x) => x !== '').join(', ');
      lines.push(`   ${i === thin.length - 1 ? '└' : '├'}─ ${v.name} [${flags}]${v.origin ? st('dim', `  origin ${v.origin}`) : ''}`);
    });
  }
  for (const v of p.volumes.filter((x) => x.pool === null)) lines.push(`└─ ${v.name} [${v.readOnly ? 'ro' : 'rw'}]`);
  for (const b of p.bootEntries) lines.push(`boot entry ${rel(b.file, dir)} → root=${b.root ?? '?'}`);
  return lines;
}

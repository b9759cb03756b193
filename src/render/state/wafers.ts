// Wafers: the ancestry tree from the parent files, and each wafer's stack.
import type { WafersPicture } from '../../contract/state.ts';
import { type St, rel, yes } from './draw.ts';
import { drawStack } from './overlayfs.ts';

export function drawWafers(p: WafersPicture, dir: string, st: St): string[] {
  if (p.wafers.length === 0) return [yes(st, false, `no wafers in ${rel(p.wafersDir, dir)}/ yet`)];
  const children = (parent: string | null): WafersPicture['wafers'] => p.wafers.filter((w) => w.parent === parent || (parent === null && w.parent !== null && !p.wafers.some((x) => x.name === w.parent)));
  const lines: string[] = [`${st('bold', `${rel(p.wafersDir, dir)}/`)} ${st('dim', '(ancestry from the parent files)')}`];
  const walk = (parent: string | null, prefix: string, seen: Set<string>): void => {
    const kids = children(parent).filter((w) => !seen.has(w.name));
    kids.forEach((w, i) => {
      seen.add(w.name);
      const last = i === kids.length - 1;
      const mounted = w.stack
        ? st('green', `stacked at ${rel(w.stack.merged, dir)}`)
        : w.mounted
          ? st('green', `mounted at ${rel(w.mounted.at, dir)} (${w.mounted.bind ? 'a bind mount' : w.mounted.fsType})`)
          : st('dim', 'not stacked');
      const orphan = w.parent !== null && !p.wafers.some((x) => x.name === w.parent) ? st('red', ` (parent ${w.parent} is missing)`) : '';
      lines.push(`${prefix}${last ? '└─' : '├─'} ${w.name}${w.hasData ? '' : st('red', ' (no data/)')}${orphan}  ${mounted}`);
      walk(w.name, `${prefix}${last ? '   ' : '│  '}`, seen);
    });
  };
  walk(null, '', new Set());
  for (const w of p.wafers.filter((x) => x.stack)) if (w.stack) lines.push('', `${st('bold', w.name)}:`, ...drawStack(w.stack, dir, st, '  '));
  return lines;
}

// Overlay stacks: merged on top, the upper layer with its counts, the workdir, the lowerdirs in order;
// a wrong stack is drawn wrong. The wafers draw their stacks with drawStack too.
import type { OverlayPicture, OverlayStack } from '../../contract/state.ts';
import { type St, count, rel, yes } from './draw.ts';

export function drawStack(s: OverlayStack, dir: string, st: St, indent = ''): string[] {
  const lines = [`${indent}┌ ${st('bold', 'merged')}   ${rel(s.merged, dir)}  ${st('dim', `(overlay, ${s.readOnly ? 'ro' : 'rw'}, mount ${s.mountId})`)}`];
  // a wrong stack is drawn as wrong: the problem under its mount, the wrong layer marked
  for (const p of s.problems ?? []) lines.push(`${indent}│ ${yes(st, false, st('red', p))}`);
  const wrong = (s.problems ?? []).length > 0;
  for (const m of s.inside) lines.push(`${indent}│   ${st('dim', `+ ${m.fsType} at ${rel(m.path, dir)}`)}`);
  if (s.upper) {
    const mark = wrong && /^upper /.test((s.problems ?? []).join(' ')) ? ` ${st('red', '✘')}` : '';
    lines.push(`${indent}├ ${st('bold', 'upper')}    ${rel(s.upper.path, dir)}${mark}  ${st('cyan', `${count(s.upper.files, 'file')}, ${count(s.upper.whiteouts, 'whiteout')}, ${count(s.upper.opaqueDirs, 'opaque dir')}`)}`);
  } else lines.push(`${indent}├ ${st('bold', 'upper')}    ${st('yellow', '(none: read-only stack)')}`);
  lines.push(`${indent}├ ${st('bold', 'workdir')}  ${s.workdir ? rel(s.workdir, dir) : st('yellow', '(none)')}`);
  s.lowerdirs.forEach((l, i) => lines.push(`${indent}${i === s.lowerdirs.length - 1 ? '└' : '├'} ${st('bold', `lower ${i + 1}`)}  ${rel(l, dir)}`));
  return lines;
}

export function drawOverlayfs(p: OverlayPicture, dir: string, st: St): string[] {
  if (p.stacks.length === 0) return [yes(st, false, 'no overlay of this chapter is mounted')];
  return p.stacks.flatMap((s, i) => [...(i > 0 ? [''] : []), ...drawStack(s, dir, st)]);
}

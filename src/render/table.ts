// The check table: what was checked, expected, actual, and a hint. Plain text; colour optional.
import type { CheckResult } from '../checks/check.ts';
import { styler } from './style.ts';

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

export function renderResults(results: readonly CheckResult[], color: boolean, width = process.stdout.columns ?? 100): string {
  const st = styler(color);
  const lines: string[] = [];
  const w = Math.max(40, Math.min(width, 120)) - 6;
  for (const r of results) {
    if (r.status === 'pass') {
      lines.push(`${st('green', '  ✔')} ${r.check}`);
      continue;
    }
    const mark = r.status === 'fail' ? st('red', '  ✘') : st('yellow', '  !');
    lines.push(`${mark} ${st('bold', r.check)}`);
    const field = (label: string, value: string) => wrap(value, w - 10).forEach((l, i) => lines.push(`      ${i === 0 ? st('dim', label.padEnd(9)) : ' '.repeat(9)} ${l}`));
    if (r.status === 'fail') {
      field('expected', r.expected);
      field('actual', r.actual);
      if (r.hint) field('hint', r.hint);
    } else field('error', `${r.error} (the probe itself could not run)`);
  }
  const passed = results.filter((r) => r.status === 'pass').length;
  lines.push('', `  ${passed}/${results.length} checks passed`);
  return lines.join('\n');
}

// Minimal ANSI styling, on only when the caller says so (a TTY, no NO_COLOR, no --json).
const codes = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof codes;

export function styler(color: boolean): (style: Style, text: string) => string {
  return (style, text) => (color ? `\u001b[${codes[style][0]}m${text}\u001b[${codes[style][1]}m` : text);
}

export function progressBar(done: number, total: number, width = 20): string {
  const n = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${done}/${total}`;
}

// No function in src/ is over 100 lines (issue 20). The script measures with the TypeScript
// compiler API; KNOWN lists the ones that are still too long, so that the list can only shrink: a
// new long function fails, and so does a listed one that got shorter and was not taken off.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, without types
import { functionLengths, longFunctions } from '../../scripts/function-length.mjs';

interface Measured {
  file: string;
  name: string;
  line: number;
  lines: number;
}
const measure = functionLengths as (file: string, text?: string) => Measured[];
const findLong = longFunctions as (dirs: string[], limit: number) => Measured[];

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const LIMIT = 100;

/** file (under src/) and function: each is split up by one of issue 20's moves, then taken off. */
const KNOWN: readonly string[] = [
];

describe('function length', () => {
  it(`finds no function in src/ over ${LIMIT} lines but the known ones`, () => {
    const long = findLong([SRC], LIMIT).map((f) => `${f.file.slice(SRC.length + 1)} ${f.name}`);
    expect(long.filter((f) => !KNOWN.includes(f)), 'new functions over the limit: split them').toEqual([]);
    expect(KNOWN.filter((f) => !long.includes(f)), 'now short enough: take them off KNOWN').toEqual([]);
  });

  it('counts a function from its first line to its closing brace, nested ones too', () => {
    const body = Array.from({ length: 5 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = `// a comment\nexport function outer() {\n${body}\n  const inner = () => {\n    return 1;\n  };\n}\nclass Journey {\n  pass() {\n    return 2;\n  }\n}\n`;
    const found = measure('x.ts', text).map((f) => [f.name, f.line, f.lines]);
    expect(found).toEqual([
      ['outer', 2, 10],
      ['inner', 8, 3],
      ['Journey.pass', 13, 3],
    ]);
  });
});

// A lesson pack written into a temp folder for one test: `{ '01-slow': { md, ts } }`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface PackChapter {
  md: string | Buffer;
  ts?: string;
}

export interface Pack {
  dir: string;
  dispose(): void;
}

export function makePack(chapters: Record<string, PackChapter>, prefix = '/tmp/ws-pack-'): Pack {
  const dir = mkdtempSync(prefix);
  for (const [folder, c] of Object.entries(chapters)) {
    mkdirSync(path.join(dir, folder), { recursive: true });
    writeFileSync(path.join(dir, folder, 'chapter.md'), c.md);
    if (c.ts !== undefined) writeFileSync(path.join(dir, folder, 'steps.ts'), c.ts);
  }
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A one-step chapter whose steps.ts has `verify` as given (an expression of ctx). */
export function oneStep(id: string, verify: string, extra = ''): PackChapter {
  return {
    md: `# ${id}\n\n## The step {#step}\n\nDo it.\n`,
    ts: `import { defineChapter, defineCheck, pass, fail } from 'workshop/lesson';
${extra}
export default defineChapter({
  formatVersion: 1,
  id: '${id}',
  title: '${id}',
  steps: { step: { verify: (ctx) => ${verify}, solve: async () => {}, hints: ['none'] } },
  cleanup: async () => {},
});
`,
  };
}

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

/**
 * One chapter, bg, whose first step starts `sleep 600` in the background and writes its PID to
 * worker.pid; `cleanup` is the body of the chapter's cleanup after `pid` is read from that file.
 */
export const backgroundWorkerPack = (cleanup: string, prefix?: string): Pack =>
  makePack(
    {
      '01-bg': {
        md: '# A background worker\n\n## Start it {#start}\n\nStart it.\n\n## Check it {#check}\n\nCheck it.\n\n## What you built\n\nA worker.\n',
        ts: `import { readFile } from 'node:fs/promises';
import { defineChapter, fileExists } from 'workshop/lesson';
export default defineChapter({
  formatVersion: 1,
  id: 'bg',
  title: 'A background worker',
  steps: {
    start: {
      verify: () => [fileExists('worker.pid')],
      solve: async ({ $ }) => { await $\`sh -c 'sleep 600 >/dev/null 2>&1 & echo $! > worker.pid'\`; },
      hints: ['none'],
    },
    check: { verify: () => [fileExists('worker.pid')], solve: async () => {}, hints: ['none'] },
  },
  cleanup: async ({ path, $ }) => {
    const pid = (await readFile(path('worker.pid'), 'utf8').catch(() => '')).trim();
    ${cleanup}
  },
});
`,
      },
    },
    prefix,
  );

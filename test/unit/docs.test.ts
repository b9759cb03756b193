// docs/lesson-api.md is generated from the TSDoc of src/lesson.ts (npm run docs). A change to the
// public API that was not regenerated fails here, and so does an export without TSDoc.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE, REPO, spawnCollect } from '../helpers/workshop.ts';

describe('docs/lesson-api.md', () => {
  it('is what `npm run docs` generates from src/lesson.ts today, with every export documented', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ws-docs-'));
    try {
      // typedoc.json sets treatWarningsAsErrors and notDocumented: an undocumented export fails the run
      const r = await spawnCollect(NODE, [join(REPO, 'node_modules/typedoc/bin/typedoc'), '--out', out], { timeoutMs: 170_000 });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const fresh = await readFile(join(out, 'lesson-api.md'), 'utf8');
      const committed = await readFile(join(REPO, 'docs/lesson-api.md'), 'utf8');
      expect(committed === fresh, 'docs/lesson-api.md is stale: run `npm run docs` and commit it').toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 180_000);
});

// The layers point one way (docs/ARCHITECTURE.md): checked on the real import graph by
// dependency-cruiser, with the rules in .dependency-cruiser.cjs. A violation names the file, the
// import and the rule. The rules are also shown to bite: a small tree that breaks them on purpose
// must be reported, or a rule that matches nothing would pass forever.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type IConfiguration } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const config = createRequire(import.meta.url)(`${REPO}.dependency-cruiser.cjs`) as IConfiguration;

/** The violations of the rules in the tree at `dir`, as `rule: from -> to`. */
async function violations(dir: string, options: IConfiguration['options']): Promise<string[]> {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const result = await cruise(['src'], { ...options, validate: true, ruleSet: { forbidden: config.forbidden ?? [] } });
    const output = result.output;
    if (typeof output === 'string') throw new Error('dependency-cruiser returned text, not a result');
    // the check must have seen the tree, or it proves nothing
    expect(output.summary.totalCruised).toBeGreaterThan(3);
    return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`);
  } finally {
    process.chdir(cwd);
  }
}

describe('the layers', () => {
  it('point one way: cli -> engine -> lessons | checks | render -> contract -> sys, and there are no cycles', async () => {
    expect(await violations(REPO, config.options)).toEqual([]);
  }, 60_000);

  it('are enforced: a tree that breaks each rule on purpose is reported, rule by rule', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ws-layers-'));
    const files: Record<string, string> = {
      'src/cli/next.ts': "import { pass } from '../checks/check.ts';\nimport { load } from '../lessons/load.ts';\nexport const a = [pass, load];\n",
      'src/checks/check.ts': "import { step } from '../engine/journey.ts';\nexport const pass = step;\n",
      'src/engine/journey.ts': "import { serve } from '../classroom/server.ts';\nexport const step = serve;\n",
      'src/classroom/server.ts': "import { main } from '../cli/main.ts';\nexport const serve = main;\n",
      'src/cli/main.ts': 'export const main = 1;\n',
      'src/lessons/load.ts': "export const load = 1;\n",
      'src/lesson.ts': "import { step } from './engine/journey.ts';\nexport const api = step;\n",
      'src/sys/exec.ts': "import { pass } from '../checks/check.ts';\nexport const run = pass;\n",
      'src/render/table.ts': "import { step } from '../engine/journey.ts';\nexport const draw = step;\n",
    };
    try {
      for (const [f, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
        await writeFile(path.join(dir, f), text);
      }
      const { tsConfig: _ignored, ...options } = config.options ?? {};
      const found = await violations(dir, options);
      expect(found).toEqual(
        expect.arrayContaining([
          'cli-asks-the-engine: src/cli/next.ts -> src/checks/check.ts',
          'cli-asks-the-engine-for-lessons: src/cli/next.ts -> src/lessons/load.ts',
          'checks-stay-low: src/checks/check.ts -> src/engine/journey.ts',
          'engine-below-cli: src/engine/journey.ts -> src/classroom/server.ts',
          'classroom-beside-engine: src/classroom/server.ts -> src/cli/main.ts',
          'lessons-below-engine: src/lesson.ts -> src/engine/journey.ts',
          'sys-is-the-floor: src/sys/exec.ts -> src/checks/check.ts',
          'render-stays-low: src/render/table.ts -> src/engine/journey.ts',
        ]),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

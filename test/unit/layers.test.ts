// The layers point one way (DESIGN.md): checked on the real import graph by dependency-cruiser,
// with the rules in .dependency-cruiser.cjs. A violation names the file, the import and the rule.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cruise, type IConfiguration } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const config = createRequire(import.meta.url)(`${REPO}.dependency-cruiser.cjs`) as IConfiguration;

describe('the layers', () => {
  it('point one way: cli -> engine -> lessons, render -> checks, and there are no cycles', async () => {
    const cwd = process.cwd();
    process.chdir(REPO);
    try {
      const result = await cruise(['src'], { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden ?? [] } });
      const output = result.output;
      if (typeof output === 'string') throw new Error('dependency-cruiser returned text, not a result');
      const violations = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`);
      expect(violations).toEqual([]);
      // the check must have seen the tree, or it proves nothing
      expect(output.summary.totalCruised).toBeGreaterThan(50);
    } finally {
      process.chdir(cwd);
    }
  }, 60_000);
});

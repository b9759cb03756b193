// The README's command table is derived from the commands' own tables (src/cli/command.ts): a
// command added, renamed or described anew without the README fails here.
// `UPDATE_README=1 npx vitest run --project unit test/unit/commands-table.test.ts` writes it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAll } from '../../src/cli/commands/index.ts';
import { commandsTable } from '../../src/cli/help.ts';
import { REPO } from '../helpers/workshop.ts';

const BEGIN = '<!-- commands: generated from src/cli/commands (test/unit/commands-table.test.ts) -->';
const END = '<!-- /commands -->';

describe("the README's command table", () => {
  it('is the one the command tables give', async () => {
    const path = join(REPO, 'README.md');
    const readme = readFileSync(path, 'utf8');
    const from = readme.indexOf(BEGIN);
    const to = readme.indexOf(END);
    expect(from, `README.md has the markers ${BEGIN} … ${END}`).toBeGreaterThanOrEqual(0);
    expect(to).toBeGreaterThan(from);
    const want = `${BEGIN}\n${commandsTable(await loadAll())}\n${END}`;
    const have = readme.slice(from, to + END.length);
    if (process.env['UPDATE_README'] === '1') writeFileSync(path, readme.replace(have, want));
    else expect(have, 'the README lists the commands otherwise than their tables: run this test with UPDATE_README=1').toBe(want);
  });
});

// The README's command table is derived from the commands' own tables (src/cli/command.ts): a
// command added, renamed or described anew without the README fails here.
// `UPDATE_README=1 npx vitest run --project unit test/unit/commands-table.test.ts` writes it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import type { CommandDef } from '../../src/cli/command.ts';
import { COMMANDS, loadAll } from '../../src/cli/commands/index.ts';
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

describe('the command tables', () => {
  /** every command and subcommand with the words that name it */
  async function named(prefix: string, def: CommandDef): Promise<Array<[string, CommandDef]>> {
    const subs = await Promise.all(Object.entries(def.subCommands ?? {}).map(async ([w, load]) => named(`${prefix} ${w}`, await load())));
    return [[prefix, def], ...subs.flat()];
  }

  it('name each command by the words that reach it, and begin its usage with them', async () => {
    const all = (await Promise.all(Object.entries(COMMANDS).map(async ([verb, c]) => named(verb, await c.load())))).flat();
    expect(all.length).toBeGreaterThan(Object.keys(COMMANDS).length);
    for (const [words, def] of all) {
      expect(def.meta.name, words).toBe(words);
      expect(def.meta.usage.startsWith(words), `${words}: usage ${def.meta.usage}`).toBe(true);
    }
  });

  it('keep each command in commands/NAME.ts, as scripts/build.mjs finds the hot ones', () => {
    for (const verb of Object.keys(COMMANDS)) expect(existsSync(join(REPO, 'src/cli/commands', `${verb}.ts`)), verb).toBe(true);
  });
});

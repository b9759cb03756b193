// One helper reads, parses and changes the home's small records (issue 28): drills.json and
// answers.json. A file that is not one is refused with the way out; a change reads afresh under
// the workspace lock and writes atomically; the two records keep their own words.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkshopError } from '../../src/errors.ts';
import { changeRecord, parseRecord, readRecord, type RecordKind } from '../../src/engine/json-record.ts';
import { parseAnswers, readAnswers } from '../../src/engine/answer-record.ts';
import { parseBook } from '../../src/engine/drill-record.ts';

interface Tally {
  n: number;
}
const TALLY: RecordKind<Tally> = {
  path: (home) => join(home, 'tally.json'),
  empty: () => ({ n: 0 }),
  accept: (v) => (typeof v === 'object' && v !== null && typeof (v as Tally).n === 'number' ? (v as Tally) : undefined),
  what: 'a tally',
  wayOut: 'remove it (rm PATH)',
  lost: 'the tally was not kept',
};

describe('a record in the home', () => {
  let home = '';
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'ws-unit-record-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('is empty before it exists, and changes on a fresh read each time', async () => {
    expect(readRecord(TALLY, home)).toEqual({ n: 0 });
    await Promise.all(Array.from({ length: 5 }, () => changeRecord(TALLY, home, 'test', (t) => void (t.n += 1))));
    expect(JSON.parse(readFileSync(join(home, 'tally.json'), 'utf8'))).toEqual({ n: 5 });
    expect(await changeRecord(TALLY, home, 'test', (t) => t.n * 2)).toBe(10);
  });

  it.each(['', '{', '[]', '{"n":"x"}'])('refuses %j with the way out, naming the file', (text) => {
    const path = join(home, 'tally.json');
    writeFileSync(path, text);
    expect(() => readRecord(TALLY, home)).toThrow(WorkshopError);
    expect(() => parseRecord(TALLY, text, path)).toThrow(`${path} is not a tally workshop can read`);
    const caught = (() => {
      try {
        parseRecord(TALLY, text, path);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(caught).toMatchObject({ hint: `remove it (rm ${path})` });
  });

  it('keeps the words of drills.json and answers.json', () => {
    expect(() => parseBook('{}', '/h/drills.json')).toThrow('/h/drills.json is not a drill record workshop can read');
    expect(() => parseAnswers('{}', '/h/answers.json')).toThrow('/h/answers.json is not an answer record workshop can read');
    expect(readAnswers(home)).toEqual({ formatVersion: 1, answers: {} });
  });
});

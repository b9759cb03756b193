// The draft that `workshop record` writes: a chapter.md with the step's commands as a block, and
// a steps.ts whose step verifies every recorded object with a check of the library, solves by
// removing what the step makes and typing the same commands again (so that it is idempotent and
// repairs any near-miss), gives two hints, and proposes the mutants of objects.ts with their
// diagnoses. Both files carry DRAFT_MARKER, which `workshop lint` reports until the author
// deletes it. Pure: text in, text out.
import { buildCheck, checkCode, lit, type CheckSpec, type DraftItem } from './objects.ts';

/** The words that mark a draft in both files; lint (engine/lint-rules.ts) reports them. */
export const DRAFT_MARKER = 'workshop record: draft';

/** Where the recorded shell ran: the chapter folder, or a lab namespace (`workshop shell host`). */
export type RecordPlace = 'folder' | 'host' | 'net' | 'box';
export const LAB_NETNS: Readonly<Record<Exclude<RecordPlace, 'folder'>, string>> = { host: 'ws-host', net: 'ws-net', box: 'ws-box' };

export interface DraftInput {
  chapterId: string;
  title: string;
  step: string;
  /** the commands as they were typed, one per line */
  commands: readonly string[];
  place: RecordPlace;
  items: readonly DraftItem[];
  /** ISO date, for the marker */
  recordedAt: string;
}

export interface Draft {
  chapterMd: string;
  stepsTs: string;
  checks: CheckSpec[];
  mutants: Array<{ name: string; diagnosis: RegExp }>;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The diagnosis of a mutant: its check's own failing row, as failureText prints it (`✘ NAME`). */
export const diagnosisOf = (spec: CheckSpec): RegExp => new RegExp(`^✘ ${escapeRe(buildCheck(spec).name)}$`, 'm');

const indent = (lines: readonly string[], n: number): string[] => lines.map((l) => `${' '.repeat(n)}${l}`);

/** The draft's cleanup: every object's statements, links and rules first, then mounts inside out, then files. */
function undoBody(items: readonly DraftItem[]): string[] {
  const all = items.flatMap((i) => i.clean).sort((a, b) => a.stage - b.stage || b.order - a.order);
  const seen = new Set<string>();
  const body = all.map((c) => c.code).filter((c) => (seen.has(c) ? false : (seen.add(c), true)));
  return body.length > 0 ? body : ['// nothing recorded to remove'];
}

const TMP_SHAPED = [
  '/** Folders at the top of /tmp made since the chapter started that hold exactly `names`: the text\'s random /tmp/$nonce. */',
  'async function tmpShaped(ctx: SolveContext, names: readonly string[]): Promise<string[]> {',
  '  const found: string[] = [];',
  "  for (const n of await readdir('/tmp').catch(() => [] as string[])) {",
  "    const d = join('/tmp', n);",
  '    const st = await stat(d).catch(() => null);',
  '    if (!st?.isDirectory() || st.mtimeMs + 50 < ctx.startedAt) continue;',
  '    const inside = (await readdir(d).catch(() => [] as string[])).sort();',
  '    if (inside.length === names.length && inside.every((x, i) => x === names[i])) found.push(d);',
  '  }',
  '  return found;',
  '}',
];

function solveLines(place: RecordPlace): string[] {
  if (place === 'folder') return ['await undo(ctx);', 'await ctx.$`bash -c ${COMMANDS}`;'];
  return ['await labUp((l) => ctx.log(`$ ${l}`));', 'await undo(ctx);', `await ctx.$\`nsenter --net=/run/netns/${LAB_NETNS[place]} -- bash -c \${COMMANDS}\`;`];
}

function imports(d: DraftInput, checks: readonly CheckSpec[]): string[] {
  const names = new Set<string>(['defineChapter', 'diagnosed', ...checks.map((c) => c.fn), ...d.items.flatMap((i) => i.uses)]);
  if (d.place !== 'folder') for (const n of ['labUp', 'labDown']) names.add(n);
  const helpers = d.items.some((i) => i.helpers.includes('tmpShaped'));
  return [
    ...(helpers ? ["import { readdir, stat } from 'node:fs/promises';", "import { join } from 'node:path';"] : []),
    `import { ${[...names].sort().join(', ')}, type SolveContext } from 'workshop/lesson';`,
  ];
}

/** The two hints: what the step makes, then the commands. */
export function hintsOf(d: Pick<DraftInput, 'items' | 'commands' | 'place'>): [string, string] {
  const made = d.items.map((i) => i.what);
  const where = d.place === 'folder' ? 'in the chapter folder' : `in \`workshop shell ${d.place}\``;
  return [`This step makes ${made.length > 0 ? made.join('; ') : 'nothing the probes see'}, ${where}.`, d.commands.join('; ')];
}

export function writeStepsTs(d: DraftInput): { text: string; checks: CheckSpec[]; mutants: Array<{ name: string; diagnosis: RegExp }> } {
  const checks = d.items.flatMap((i) => i.checks);
  const mutants = d.items.flatMap((i) => i.mutants).filter((m, i, all) => all.findIndex((x) => x.name === m.name) === i);
  const mutantLines = mutants.flatMap((m) => [
    `${lit(m.name)}: diagnosed(async (ctx) => {`,
    ...indent(m.code, 2),
    `}, ${String(diagnosisOf(m.check))}),`,
  ]);
  const cleanup = d.place === 'folder' ? 'cleanup: undo,' : 'cleanup: async (ctx) => {\n    await undo(ctx);\n    await labDown();\n  },';
  const lines = [
    `// ${DRAFT_MARKER}, recorded on ${d.recordedAt} from ${d.commands.length} command${d.commands.length === 1 ? '' : 's'}. Review it, then delete this line (workshop lint reports it).`,
    ...imports(d, checks),
    '',
    '/** The commands typed in the recorded shell, as they were typed. */',
    'const COMMANDS = [',
    ...indent(d.commands.map((c) => `${lit(c)},`), 2),
    "].join('\\n');",
    '',
    ...(d.items.some((i) => i.helpers.includes('tmpShaped')) ? [...TMP_SHAPED, ''] : []),
    '/** Removes what the step makes, from any state (idempotent): the cleanup, and the start of the solve. */',
    'async function undo(ctx: SolveContext): Promise<void> {',
    ...indent(undoBody(d.items), 2),
    '}',
    '',
    'export default defineChapter({',
    '  formatVersion: 1,',
    `  id: ${lit(d.chapterId)},`,
    `  title: ${lit(d.title)},`,
    '  steps: {',
    `    ${lit(d.step)}: {`,
    '      verify: () => [',
    ...indent(checks.map((c) => `${checkCode(c)},`), 8),
    '      ],',
    '      solve: async (ctx) => {',
    ...indent(solveLines(d.place), 8),
    '      },',
    `      hints: [${hintsOf(d).map(lit).join(', ')}],`,
    '      mutants: {',
    ...indent(mutantLines, 8),
    '      },',
    '    },',
    '  },',
    `  ${cleanup}`,
    '});',
    '',
  ];
  return { text: lines.join('\n'), checks, mutants: mutants.map((m) => ({ name: m.name, diagnosis: diagnosisOf(m.check) })) };
}

export function writeChapterMd(d: DraftInput): string {
  const where = d.place === 'folder' ? 'Work in the chapter folder, `{{dir}}` (`cd $(workshop path)`).' : `Open the lab's shell first (\`workshop lab up\`, then \`workshop shell ${d.place}\`), and type the commands there.`;
  return [
    `<!-- ${DRAFT_MARKER}, recorded on ${d.recordedAt}. Write the text around the commands, then delete this line (workshop lint reports it). -->`,
    `# ${d.title}`,
    '',
    `${where}`,
    '',
    `## Step ${d.step} {#${d.step}}`,
    '',
    '```bash',
    ...d.commands,
    '```',
    '',
    '### What just happened',
    '',
    `The commands made ${d.items.map((i) => i.what).join('; ') || 'nothing the probes see'}.`,
    '',
    'Then run `workshop next`.',
    '',
    '## What you built',
    '',
    `${d.items.map((i) => i.what).join('; ') || 'Nothing yet'}.`,
    '',
  ].join('\n');
}

export function writeDraft(d: DraftInput): Draft {
  const steps = writeStepsTs(d);
  return { chapterMd: writeChapterMd(d), stepsTs: steps.text, checks: steps.checks, mutants: steps.mutants };
}

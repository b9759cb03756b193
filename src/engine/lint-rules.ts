// The rules of `workshop lint` beyond loading (lint.ts runs them): what the README asks of a pack
// that the loader does not need. Each is a function of one chapter that returns its problems at
// file:line; those that need the chapter's code ask the lesson host, under its time limits.
import { tmpdir } from 'node:os';
import type { ChapterEntry, LessonProblem } from '../lessons/catalog.ts';
import { lessonHost } from '../lessons/host.ts';
import type { LoadedChapter } from '../lessons/load.ts';
import { codeBlocks, SHELL_LANGS } from '../lessons/markdown.ts';
import { lineOf, propertyLine } from '../lessons/scan.ts';
import { DRAFT_MARKER } from './record/draft.ts';

/** What a rule sees of one chapter: its index entry, its files' text and what its steps.ts loaded as. */
export interface LintChapter {
  entry: ChapterEntry;
  /** chapter.md's text */
  md: string;
  /** steps.ts's text */
  source: string;
  /** the chapter as the lesson host loaded it; a chapter that did not load is not linted further */
  loaded: LoadedChapter;
}

/** One rule of lint: the problems of a chapter, each at file:line. */
export type LintRule = (c: LintChapter) => LessonProblem[] | Promise<LessonProblem[]>;

/** The specifier of every import and re-export in `source`, static or dynamic, with its line; comments skipped. */
export function importsOf(source: string): Array<{ specifier: string; line: number }> {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found: Array<{ specifier: string; line: number }> = [];
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)(['"])([^'"\n]+)\1/gm)) found.push({ specifier: m[2] ?? '', line: lineOf(source, m.index + m[0].length - 1) });
  return found;
}

/** A specifier that names a file of the pack (or of the machine) rather than workshop/lesson, a built-in or a package. */
const isFilePath = (s: string): boolean => /^(?:\.{1,2}\/|\/|file:)/.test(s) || s === '.' || s === '..';

/** README: "steps.ts imports only from workshop/lesson". A relative import loads today, yet a pack is installed and checked as its steps.ts files. */
export const relativeImports: LintRule = ({ entry, source }) =>
  importsOf(source)
    .filter((i) => isFilePath(i.specifier))
    .map((i) => ({ file: entry.stepsPath, line: i.line, message: `import of a file, "${i.specifier}": a steps.ts imports only from workshop/lesson, node: built-ins and packages; put the code in steps.ts itself (README, "Writing a lesson")` }));

const CLOSING = 'What you built';

/** README: chapter.md ends with `## What you built`, an H2 without an id. */
export const closingSection: LintRule = ({ entry, md }) => {
  const closing = entry.text.closing;
  if (closing?.title === CLOSING) return [];
  if (closing) return [{ file: entry.mdPath, line: closing.line, message: `the closing section is "## ${closing.title}": it must be "## ${CLOSING}" (an H2 without {#id}, after the last step)` }];
  return [{ file: entry.mdPath, line: Math.max(1, md.trimEnd().split('\n').length), message: `missing "## ${CLOSING}": chapter.md ends with a closing section, an H2 without {#id} that says what the learner built` }];
};

/** README: the learner reads chapter.md's `# Title`; steps.ts's `title` must be the same. */
export const titlesAgree: LintRule = ({ entry, source, loaded }) => {
  const { title, titleLine } = entry.text;
  if (!title || loaded.def.title === title) return [];
  return [{ file: entry.stepsPath, line: propertyLine(source, 'title'), message: `title ${JSON.stringify(loaded.def.title)} differs from chapter.md's "# ${title}" (${entry.mdPath}:${titleLine}): keep them the same` }];
};

/** What the words after a fence's language may be (README, "The text is tested too"). */
function markerProblem(lang: string, words: readonly string[]): string | undefined {
  if (lang === '') return 'a code block without a language: mark it ```bash (typed by --as-written), ```bash norun (shown, not typed) or ```text (never run)';
  if (!SHELL_LANGS.has(lang)) return words.length > 0 ? `\`${words.join(' ')}\` after \`${lang}\`: only a shell block (\`\`\`bash) takes markers; this block is never run` : undefined;
  const bad = words.filter((w) => w !== 'norun' && !/^terminal=[1-4]$/.test(w));
  if (bad.length > 0) return `unknown marker${bad.length > 1 ? 's' : ''} ${bad.map((w) => `\`${w}\``).join(', ')}: a shell block takes \`norun\` or \`terminal=N\` (N = 1..4), nothing else`;
  if (words.filter((w) => w.startsWith('terminal=')).length > 1) return 'two terminal= markers: a block is typed in one terminal';
  return undefined;
}

/** The fences' markers say what `test --as-written` types; a misspelt one silently changes that. */
export const asWrittenMarkers: LintRule = ({ entry, md }) =>
  codeBlocks(md).flatMap((b) => {
    const message = markerProblem(b.lang, b.info.split(/\s+/).filter(Boolean).slice(1));
    return message === undefined ? [] : [{ file: entry.mdPath, line: b.line, message }];
  });

/** A draft of `workshop record` is not a lesson yet: its marker stays a problem until the author deletes it. */
export const draftMarker: LintRule = ({ entry, md, source }) =>
  [{ file: entry.mdPath, text: md }, { file: entry.stepsPath, text: source }].flatMap(({ file, text }) => {
    const at = text.indexOf(DRAFT_MARKER);
    return at < 0 ? [] : [{ file, line: lineOf(text, at), message: `${DRAFT_MARKER}: written by \`workshop record\`; review it (the text, the checks, the mutants), then delete this marker line` }];
  });

/**
 * Asks the lesson host what only the chapter's code can say: fields that no version of the
 * format has (a typo such as `hint:` is ignored by the loader), and each step's verify called
 * as `next` calls it, which must return a list of checks. Within the host's time limits.
 */
export const inspectedInHost: LintRule = ({ entry }) =>
  lessonHost().inspect(entry.id, { chapter: entry.id, dir: entry.dir, home: tmpdir(), nonce: 'lint0nonce', startedAt: Date.now() });

// `workshop show [step]`: the step's text, rendered for the terminal or as plain text.
import { fillPlaceholders } from '../../lessons/markdown.ts';
import { renderMarkdown } from '../../render/markdown.ts';
import type { Cli } from '../cli.ts';
import { currentPosition, findStep, openSession, type Position, type Session } from '../session.ts';

/** The markdown of a step: the chapter's title and intro come with its first step. */
export function stepMarkdown(s: Session, pos: Position): string {
  const { chapter } = pos;
  const step = chapter.text.steps[pos.index];
  const progress = s.state.chapters[chapter.id];
  const parts: string[] = [];
  if (pos.index === 0) parts.push(`# ${chapter.text.title}`, chapter.text.intro);
  parts.push(`## Step ${pos.index + 1}/${chapter.text.steps.length}: ${step?.title ?? pos.step}`, step?.body ?? '');
  return fillPlaceholders(parts.join('\n\n'), { nonce: progress?.nonce, dir: s.ws.chapterDir(chapter.id) });
}

export async function printStep(s: Session, pos: Position): Promise<void> {
  s.cli.out(await renderMarkdown(stepMarkdown(s, pos), s.cli.color));
}

export default async function show(cli: Cli): Promise<number> {
  const s = openSession(cli);
  const arg = cli.positionals[0];
  const pos = arg ? findStep(s, arg) : currentPosition(s);
  if (cli.json) {
    cli.emit({ chapter: pos.chapter.id, step: pos.step, title: pos.chapter.text.steps[pos.index]?.title ?? '', markdown: stepMarkdown(s, pos) });
    return 0;
  }
  await printStep(s, pos);
  return 0;
}

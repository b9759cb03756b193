// A step as the learner reads it: the chapter's title and intro come with its first step.
import type { ChapterEntry } from '../lessons/catalog.ts';
import { fillPlaceholders } from '../lessons/markdown.ts';
import { withQuestionViews } from './question.ts';
import { renderMarkdown } from './markdown.ts';

export interface StepView {
  chapter: ChapterEntry;
  /** 0-based index of the step within the chapter */
  index: number;
  /** the chapter's nonce once it has started */
  nonce: string | undefined;
  /** the chapter folder */
  dir: string;
}

export function stepMarkdown(v: StepView): string {
  const { chapter } = v;
  const step = chapter.text.steps[v.index];
  const parts: string[] = [];
  if (v.index === 0) parts.push(`# ${chapter.text.title}`, chapter.text.intro);
  parts.push(`## Step ${v.index + 1}/${chapter.text.steps.length}: ${step?.title ?? ''}`, withQuestionViews(step?.body ?? ''));
  return fillPlaceholders(parts.join('\n\n'), { nonce: v.nonce, dir: v.dir });
}

export const renderStep = (v: StepView, color: boolean): Promise<string> => renderMarkdown(stepMarkdown(v), color);

/** A chapter's closing section ("What you built"). */
export const renderClosing = (closing: { title: string; body: string }, color: boolean): Promise<string> => renderMarkdown(`## ${closing.title}\n\n${closing.body}`, color);

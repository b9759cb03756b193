// The class as CSV and JSON, for the page's buttons, GET /api/export.* and `classroom export`.
import type { ClassExport, ClassView } from './contract.ts';
import { csvField } from './safe-text.ts';

/**
 * One row per learner: the summary, then one column per step (done, solved, current, failing,
 * skipped, todo). `solved` counts, and the step columns mark, the steps passed with `workshop
 * solve`: they are not the learner's own work.
 */
export function classCsv(v: ClassView): string {
  const head = ['name', 'current', 'done', 'total', 'attempts', 'hints', 'hints_total', 'stuck', 'stuck_reason', 'minutes_on_step', 'last_seen', 'failing_checks', 'solved', ...v.steps.map((s) => s.id), ...v.questions.map((q) => `question ${q.step}#${q.question}`)];
  // a question's cell: right on the first try, or later (issue 28); empty when not answered
  const firstTry = (name: string) => v.questions.map((q) => { const a = q.learners.find((x) => x.name === name); return a === undefined ? '' : a.firstTry ? 'first try' : 'later'; });
  const rows = v.learners.map((l) => [
    l.name,
    l.current ?? 'finished',
    l.done.length,
    v.steps.length,
    l.attempts,
    l.hints,
    l.hintsTotal,
    l.stuck,
    l.stuckReason,
    Math.round(l.timeOnStepMs / 60_000),
    l.lastSeen,
    l.failing.map((f) => f.check).join('; '),
    l.solved.length,
    ...l.cells,
    ...firstTry(l.name),
  ]);
  return [head, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export function classJson(v: ClassView, className: string): ClassExport {
  return { class: className, ...v };
}

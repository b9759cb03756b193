// The class as CSV and JSON, for the page's buttons, GET /api/export.* and `classroom export`.
import type { ClassExport, ClassView, GradeRow, Grades } from './contract.ts';
import { gradeDrills } from './drill-round.ts';
import type { Model } from './model.ts';
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

/**
 * The grading export (issue 22): per learner, a row per step of the class, with `by` = self or
 * solve (a step passed with `workshop solve` is not the learner's own work), first seen, passed
 * at, attempts and hints; and their summary. `states` gives each learner's state word, by id;
 * `recordingOf` where their hosted lab's terminal recording is kept (labs-plugin.ts), if any.
 */
export function gradesOf(m: Model, className: string, states: ReadonlyMap<number, Grades['learners'][number]['summary']['state']>, recordingOf: (learnerId: number) => string | null = () => null): Grades {
  const steps = m.pack.steps.map((s) => s.id);
  const learners = [...m.learners.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((l) => {
      const rows = steps.map((step): GradeRow => ({
        step,
        by: l.done.has(step) ? (l.solved.has(step) ? 'solve' : 'self') : null,
        firstSeen: l.firstSeen.get(step) ?? null,
        passedAt: l.done.has(step) ? (l.passedAt.get(step) ?? null) : null,
        attempts: l.attempts.get(step) ?? 0,
        hints: l.hints.get(step) ?? 0,
      }));
      const sum = (f: (r: GradeRow) => number): number => rows.reduce((a, r) => a + f(r), 0);
      return {
        summary: { learner: l.name, state: states.get(l.id) ?? 'active', bySelf: rows.filter((r) => r.by === 'self').length, bySolve: rows.filter((r) => r.by === 'solve').length, total: steps.length, attempts: sum((r) => r.attempts), hints: sum((r) => r.hints), recording: recordingOf(l.id) },
        steps: rows,
        answers: [...l.firstAnswers].map(([key, firstTry]) => ({ step: key.split(' ')[0] ?? '', question: key.split(' ')[1] ?? '', firstTry })),
        drills: gradeDrills(l.drills),
      };
    });
  return { class: className, steps, learners };
}

/**
 * The grades as CSV: a `step` row per learner and step, an `answer` row per question they
 * answered, a `drill` row per drill they met (issue 28: the near-miss, fixed / gave-up / on, the
 * seconds it took, the class round or empty), then their `summary` row; every cell formula-safe.
 */
export function gradesCsv(g: Grades): string {
  const head = ['learner', 'row', 'step', 'by', 'first_seen', 'passed_at', 'attempts', 'hints', 'state', 'by_self', 'by_solve', 'total', 'recording', 'question', 'first_try', 'drill', 'outcome', 'seconds', 'round'];
  const rows: Array<Array<string | number | null>> = [];
  const none = (n: number): null[] => Array<null>(n).fill(null);
  for (const { summary: s, steps, answers, drills } of g.learners) {
    for (const r of steps) rows.push([s.learner, 'step', r.step, r.by, r.firstSeen, r.passedAt, r.attempts, r.hints, ...none(11)]);
    for (const a of answers) rows.push([s.learner, 'answer', a.step, ...none(10), a.question, a.firstTry ? 'yes' : 'no', ...none(4)]);
    for (const d of drills) rows.push([s.learner, 'drill', d.step, null, d.startedAt, null, d.attempts, d.hints, ...none(7), d.mutant, d.state, d.seconds, d.round]);
    rows.push([s.learner, 'summary', null, null, null, null, s.attempts, s.hints, s.state, s.bySelf, s.bySolve, s.total, s.recording, ...none(6)]);
  }
  return [head, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

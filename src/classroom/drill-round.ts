// The class's drills (issue 28), folded from the learners' `drilled` reports: pure, as model.ts is.
// The instructor starts a round (an act); each learner's report says which near-miss they met,
// whether it is fixed or given up, and how long it took. The dashboard's panel and the grading
// export are views of it.
import type { DrillRound, DrillRoundView, GradeDrill, Report } from './contract.ts';

/** One learner's drills, by `round step mutant` (a drill met again replaces the earlier one). */
export type LearnerDrills = Map<string, GradeDrill>;

/** Applies a `drilled` report, whose fields the server's schema and route have checked. */
export function applyDrillReport(drills: LearnerDrills, r: Report, at: string): void {
  const d = r.drill;
  if (r.kind !== 'drilled' || d === undefined) return;
  const key = `${d.round ?? ''} ${r.step} ${d.mutant}`;
  const before = drills.get(key);
  if (d.state === 'started') {
    drills.set(key, { round: d.round, step: r.step, mutant: d.mutant, state: 'on', seconds: null, attempts: 0, hints: 0, startedAt: at });
    return;
  }
  // the end of a drill whose start was not heard (a report refused, a class joined during it) still counts
  drills.set(key, { round: d.round, step: r.step, mutant: d.mutant, state: d.state, seconds: Math.round(d.ms / 1000), attempts: r.attempts, hints: r.hints, startedAt: before?.startedAt ?? new Date(Date.parse(at) - d.ms).toISOString() });
}

/** The round's panel: per learner who met one of its drills, those drills in the order they started. */
export function drillRoundView(round: DrillRound | null, learners: ReadonlyArray<{ name: string; drills: LearnerDrills }>): DrillRoundView | null {
  if (round === null) return null;
  const rows = learners
    .map((l) => ({
      name: l.name,
      drills: [...l.drills.values()]
        .filter((d) => d.round === round.id)
        .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
        .map(({ round: _r, ...cell }) => cell),
    }))
    .filter((l) => l.drills.length > 0)
    .sort((a, b) => a.name.localeCompare(b.name));
  const fixedAll = rows.filter((l) => l.drills.length >= round.drills && l.drills.every((d) => d.state === 'fixed')).length;
  return { ...round, learners: rows, fixedAll };
}

/** The grading export's drill rows of a learner: every drill they met, in the order they started. */
export const gradeDrills = (drills: LearnerDrills): GradeDrill[] => [...drills.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt));

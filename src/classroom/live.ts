// The class as the server keeps it in memory: the model (model.ts) folded from the store's events,
// kept current by a subscription. Subscribed before the snapshot is read, so that no event falls
// between the two.
import { applyEvent, classView, emptyModel, inboxOf, type ClassView, type Inbox, type Pack, type Thresholds } from './model.ts';
import type { ClassHistory, Grades } from './contract.ts';
import { gradesOf } from './export.ts';
import type { ClassEvent, ClassInfo, Store } from './store.ts';

export interface LiveClass {
  /** the class now, as GET /api/class and the exports give it */
  view(): ClassView;
  /** the grading export (export.ts gradesOf) */
  grades(className: string, recordingOf?: (learnerId: number) => string | null): Grades;
  /** what one learner's sender fetches: their messages, the hold, their hand */
  inbox(learnerId: number): Inbox;
  /** the class as it was at `at` (ms): a model folded from the stored events received by then */
  viewAt(at: number): Promise<ClassView>;
  /** the room over time: every step passed, when, for the chart and the dashboard's scrubber */
  history(): Promise<ClassHistory>;
  /** calls `listener` with each event after the model applied it; returns the unsubscribe function */
  onEvent(listener: (e: ClassEvent) => void): () => void;
  close(): void;
}

export async function followClass(store: Store, info: ClassInfo, pack: Pack, thresholds: Thresholds): Promise<LiveClass> {
  const model = emptyModel(pack);
  const listeners = new Set<(e: ClassEvent) => void>();
  const apply = (e: ClassEvent): void => {
    applyEvent(model, e);
    for (const l of listeners) l(e);
  };
  const early: ClassEvent[] = [];
  let ready = false;
  const unsubscribe = await store.subscribe(info.id, (e) => (ready ? apply(e) : early.push(e)));
  for (const e of (await store.snapshot(info.id)).events) apply(e);
  for (const e of early) apply(e);
  ready = true;
  return {
    view: () => classView(model, thresholds, Date.now()),
    // The past is read from the store when the instructor scrubs, not kept in memory.
    viewAt: async (at) => {
      const then = emptyModel(pack);
      for (const e of (await store.snapshot(info.id)).events) if (Date.parse(e.receivedAt) <= at) applyEvent(then, e);
      return classView(then, thresholds, at);
    },
    history: async () => historyOf((await store.snapshot(info.id)).events),
    inbox: (learnerId) => inboxOf(model, learnerId),
    grades: (className, recordingOf) => gradesOf(model, className, new Map(classView(model, thresholds, Date.now()).learners.map((l) => [l.id, l.state])), recordingOf),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: unsubscribe,
  };
}

/** Pure: when each step was passed (a learner's first pass of it), from the class's events. */
export function historyOf(events: readonly ClassEvent[]): ClassHistory {
  const seen = new Set<string>();
  const passes: ClassHistory['passes'] = [];
  for (const e of events) {
    if (e.type === 'removed') for (const k of [...seen]) if (k.startsWith(`${e.learnerId} `)) seen.delete(k);
    if (e.type !== 'report' || (e.report.kind !== 'passed' && e.report.kind !== 'solved')) continue;
    const key = `${e.learnerId} ${e.report.step}`;
    if (seen.has(key)) continue;
    seen.add(key);
    passes.push({ at: e.receivedAt, step: e.report.step });
  }
  return { from: events[0]?.receivedAt ?? null, to: new Date().toISOString(), passes };
}

// The class as the server keeps it in memory: the model (model.ts) folded from the store's events,
// kept current by a subscription. Subscribed before the snapshot is read, so that no event falls
// between the two.
import { applyEvent, classView, emptyModel, inboxOf, type ClassView, type Inbox, type Pack, type Thresholds } from './model.ts';
import type { Grades } from './contract.ts';
import { gradesOf } from './export.ts';
import type { ClassEvent, ClassInfo, Store } from './store.ts';

export interface LiveClass {
  /** the class now, as GET /api/class and the exports give it */
  view(): ClassView;
  /** the grading export (export.ts gradesOf) */
  grades(className: string, recordingOf?: (learnerId: number) => string | null): Grades;
  /** what one learner's sender fetches: their messages, the hold, their hand */
  inbox(learnerId: number): Inbox;
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
    inbox: (learnerId) => inboxOf(model, learnerId),
    grades: (className, recordingOf) => gradesOf(model, className, new Map(classView(model, thresholds, Date.now()).learners.map((l) => [l.id, l.state])), recordingOf),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: unsubscribe,
  };
}

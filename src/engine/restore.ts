// `goto X --restore`: back to the start of a step in seconds. The chapter's cleanup runs, the
// Journey resets the chapter (a fresh nonce, its setup), then the reference solution of every step
// before X runs and is verified, and each is passed as `solve` would (journey-steps.ts's loop). Progress changes only through
// the Journey's methods.
import { isPathUnder } from '../checks/proc.ts';
import type { CheckResult } from '../checks/check.ts';
import { stepIds, type ChapterEntry } from '../lessons/catalog.ts';
import { takeInventory, type ResidueItem } from './inventory.ts';
import type { Journey, Position } from './journey.ts';
import { replaySolutions } from './journey-steps.ts';
import { cleanupChapter, cleanupWouldRemove } from './runner.ts';

export interface RestorePlan {
  target: Position;
  /** the steps whose reference solutions run, in order */
  replay: Position[];
  /** what the chapter's cleanup will remove, one line each: as the chapter says it, else as the inventory sees it now */
  removes: string[];
}

/**
 * What of the residue inventory belongs to this chapter, for a pack whose chapter does not say
 * what its cleanup removes: things in its folder (mounts, loop devices, processes). The ws* names
 * outside it (netns, links, cgroups) and /tmp folders may be another chapter's: a chapter that
 * removes them says so in `removes`. The learner's files elsewhere are never listed, nor removed.
 */
export function chapterItems(items: readonly ResidueItem[], dir: string): ResidueItem[] {
  return items.filter((i) => isPathUnder(i.id, dir) || i.detail.includes(`${dir}/`) || i.detail.endsWith(dir));
}

export async function planRestore(j: Journey, target: Position): Promise<RestorePlan> {
  const ids = stepIds(target.chapter);
  const replay = ids.slice(0, target.index).map((step, index) => ({ chapter: target.chapter, step, index }));
  return { target, replay, removes: await whatCleanupRemoves(j, target.chapter) };
}

/**
 * What the chapter's cleanup would remove now, one line each: the chapter's own account where it
 * gives one (it knows its files, such as chroot's rootfs, which no inventory sees), else the
 * residue inventory's items of the chapter folder. `goto --restore` and `reset` list it before they ask.
 */
export async function whatCleanupRemoves(j: Journey, entry: ChapterEntry): Promise<string[]> {
  const dir = j.ws.chapterDir(entry.id);
  const place = j.place(entry.id) ?? { chapter: entry.id, dir, home: j.ws.home, nonce: '', startedAt: 0 };
  const declared = await cleanupWouldRemove(await j.load(entry), place);
  if (declared !== undefined) return [...declared];
  return chapterItems(await takeInventory(j.ws.home), dir).map((i) => `${i.kind} ${i.id}: ${i.detail}`);
}

export type RestoreEvent =
  | { type: 'cleanup' }
  | { type: 'solving'; step: Position }
  | { type: 'solved'; step: Position; results: CheckResult[] };

export type RestoreOutcome =
  | { ok: true; ms: number; replayed: string[] }
  | { ok: false; ms: number; step: string; error: string; results: CheckResult[] };

export async function restore(j: Journey, plan: RestorePlan, opts: { log: (line: string) => void; verbose: boolean; on: (e: RestoreEvent) => void }): Promise<RestoreOutcome> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const entry = plan.target.chapter;
  const loaded = await j.load(entry);
  const old = j.place(entry.id);
  opts.on({ type: 'cleanup' });
  if (old) await cleanupChapter(loaded, old, opts.log, opts.verbose);
  await j.resetChapter(entry);
  // the same loop as `workshop solve`: each solution, verified, recorded and passed
  const r = await replaySolutions(j, plan.replay, {
    log: opts.log,
    verbose: opts.verbose,
    on: (e) => {
      if (e.type === 'solving') opts.on({ type: 'solving', step: e.pos });
      else if (e.type === 'solved' && e.outcome.status === 'solved') opts.on({ type: 'solved', step: e.pos, results: e.outcome.results });
    },
  });
  const failed = r.failed;
  if (failed) return { ok: false, ms: ms(), step: failed.address, error: failed.status === 'error' ? failed.error : 'its checks fail after the solution ran', results: failed.results };
  await j.goto(plan.target);
  return { ok: true, ms: ms(), replayed: r.outcomes.map((o) => o.address) };
}

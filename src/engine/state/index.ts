// `workshop state`: what the learner has really built, read by the probes the checks use. The
// chapter says which families to draw (ChapterDef.state); each family's describer lives in this
// folder, and its entry in engine/families.ts says which one it is.
import type { CheckContext } from '../../checks/check.ts';
import { STATE_DOCUMENT_FORMAT, type Picture, type StateDocument, type StateFamily, type StateSpec, type StateView, type ViewOf } from '../../contract/state.ts';
import { FAMILIES, familyOf } from '../families.ts';

/** A family name alone means its entry's default view (lvm's names its volume group). Pure. */
export function viewsOf(spec: StateSpec | undefined): StateView[] {
  if (spec === undefined) return [];
  const list: ReadonlyArray<StateFamily | StateView> = typeof spec === 'string' || !Array.isArray(spec) ? [spec as StateFamily | StateView] : spec;
  return list.map((v): StateView => (typeof v === 'string' ? FAMILIES[v].view : v));
}

function describeWith<F extends StateFamily>(ctx: CheckContext, family: F, v: ViewOf<F>): Promise<Picture> {
  return familyOf(family).describe(ctx, v);
}

export function describeView(ctx: CheckContext, v: StateView): Promise<Picture> {
  return describeWith(ctx, v.family, v);
}

/** Probes every family of the chapter, in order. */
export async function describeState(ctx: CheckContext, spec: StateSpec | undefined): Promise<StateDocument> {
  const pictures: Picture[] = [];
  for (const v of viewsOf(spec)) pictures.push(await describeView(ctx, v));
  return { format: STATE_DOCUMENT_FORMAT, chapter: ctx.chapter, dir: ctx.dir, pictures };
}

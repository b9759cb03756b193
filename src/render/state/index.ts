// Draws `workshop state`: a heading per family and its diagram, from the StateDocument. Each
// family's heading and drawer come from its entry in the registry (engine/families.ts), handed in
// by the command: render never imports the engine.
import type { PictureOf, StateDocument, StateFamily } from '../../contract/state.ts';
import { styler } from '../style.ts';
import type { Drawers, St } from './draw.ts';

/** One family's lines, from its own drawer (a look-up, where a switch over the families was). */
function drawWith<F extends StateFamily>(families: Drawers, family: F, p: PictureOf<F>, dir: string, st: St): string[] {
  return families[family].draw(p, dir, st);
}

export function renderState(doc: StateDocument, color: boolean, families: Drawers): string {
  const st = styler(color);
  if (doc.pictures.length === 0) return `Chapter ${doc.chapter} has nothing to draw: it builds no kernel objects that \`workshop state\` knows.`;
  const out = [`${st('bold', `workshop state: ${doc.chapter}`)}  ${st('dim', doc.dir)}`];
  for (const p of doc.pictures) out.push('', st('cyan', `── ${families[p.family].title} ──`), ...drawWith(families, p.family, p, doc.dir, st));
  return out.join('\n');
}

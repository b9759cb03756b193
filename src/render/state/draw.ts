// What every family's drawing shares: the styler, paths relative to the chapter folder, sizes,
// and the ✔/✘ mark. Colour follows the check table (green ok, red missing/wrong, dim for paths and
// details); without colour the text has no escape codes at all.
import type { Picture, PictureOf, StateFamily } from '../../contract/state.ts';
import type { styler } from '../style.ts';

export type St = ReturnType<typeof styler>;

/** Draws one family's picture as lines; `dir` is the chapter folder, for relative paths. */
export type Drawer<P extends Picture> = (p: P, dir: string, st: St) => string[];

/** What `workshop state` needs of each family to draw it: its heading and its drawer (engine/families.ts). */
export type Drawers = { readonly [F in StateFamily]: { readonly title: string; readonly draw: Drawer<PictureOf<F>> } };

export const rel = (p: string, dir: string): string => (p === dir ? '.' : p.startsWith(`${dir}/`) ? p.slice(dir.length + 1) : p);
export const mib = (n: number): string => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);
export const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
export const size = (n: number): string => (n >= 2 ** 20 ? mib(n) : n >= 1024 ? `${(n / 1024).toFixed(0)} KiB` : `${n} B`);

export function yes(st: St, good: boolean, text: string): string {
  return good ? `${st('green', '✔')} ${text}` : `${st('red', '✘')} ${text}`;
}

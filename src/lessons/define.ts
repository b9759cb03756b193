// The authoring API's types. `defineChapter` is an identity function that exists for its types,
// as citty's defineCommand does; the loader validates the value at run time.
import type { Shell } from 'zx';
import type { Check, CheckContext } from '../checks/check.ts';
import type { StateSpec } from '../contract/state.ts';

/** The lesson format this workshop reads; `defineChapter({ formatVersion })` must equal it. */
export const FORMAT_VERSION = 1;

/** What a step's verify, solve, mutants and the chapter's hooks receive. */
export interface StepContext extends CheckContext {
  /** the step being worked on, or '' for chapter-level hooks */
  readonly step: string;
  /**
   * Prints a line for the learner on workshop's stderr (so that --json stays clean): under `next`
   * and `check` (verify's lines), `solve`, `clean`, `reset`, `goto --restore` and drills.
   * `workshop test` and `test --as-written` drop these lines; to see what your code does there,
   * use `console.error`, which reaches workshop's stderr in every command, `test` included.
   */
  log(line: string): void;
}

/** What solve, setup, cleanup and mutants receive: the step context plus zx's `$`, with cwd set to the chapter folder. */
export interface SolveContext extends StepContext {
  readonly $: Shell;
}

/** The answer of a {@link Requirement}. */
export type Probe = { ok: true } | { ok: false; reason: string };

/** Something a chapter needs from the machine; `doctor` and `test` skip the chapter with `reason` when it is unmet. */
export interface Requirement {
  readonly describe: string;
  /** finds out whether the machine has it */
  probe(): Promise<Probe>;
}

/**
 * A near-miss state that verify must reject. The object form can also say what the learner must
 * read in the failing check rows (`diagnosis`, matched against each row's check, expected, actual
 * and hint): `workshop test` proves the failure names the mistake. A bare function is a mutant
 * without a diagnosis, which third-party packs may keep.
 *
 * Every mistake has a way out, and `workshop test` proves it: from the mutant's state, the step's
 * solution alone (what `workshop solve` runs) must reach a passing state, with no cleanup in
 * between. A mutant that destroys what the solution cannot rebuild (a file of the read-only
 * image, a lower layer) says `recovery: 'restore'`: its failing rows must then name
 * `workshop goto CHAPTER/STEP --restore`, and the self-test restores the chapter to the step.
 *
 * ```ts
 * mutants: { readOnly: { apply: async ({ $ }) => { … }, diagnosis: /read-only|no upperdir/ } }
 * ```
 */
export type Mutant =
  | ((ctx: SolveContext) => Promise<void>)
  | {
      /** makes the near-miss state */
      apply(ctx: SolveContext): Promise<void>;
      /**
       * Undoes it before the engine re-solves. Only for third-party packs that predate the rule
       * above: the built-in pack (and `workshop test --require-diagnosis`) rejects a mutant with a
       * revert, since a learner has no revert, only `workshop solve`.
       */
      revert?(ctx: SolveContext): Promise<void>;
      /** what the failing rows (expected, actual, hint) must say, so the learner is told the mistake */
      diagnosis?: RegExp;
      /**
       * How the learner gets out of this state: `'solve'` (the default), or `'restore'` when it
       * destroys what the solution cannot rebuild, and the rows name `workshop goto … --restore`.
       */
      recovery?: MutantRecovery;
    };

/** How a learner leaves a mutant's state: `workshop solve`, or `workshop goto CHAPTER/STEP --restore`. */
export type MutantRecovery = 'solve' | 'restore';

/** Gives a mutant written as a function (or made by a helper) the diagnosis its failure must name. */
export function diagnosed(mutant: Mutant, diagnosis: RegExp): Mutant {
  return typeof mutant === 'function' ? { apply: mutant, diagnosis } : { ...mutant, diagnosis };
}

/**
 * A valid state that verify must accept, though the reference solution does not make it: another
 * way to the same result that learners take (a real image's dynamically linked BusyBox instead of
 * the static one, the tutorial's own names). `workshop test` applies it after the step passes,
 * verifies (every check must pass), runs `revert`, and re-solves: a control that is rejected fails
 * the step, as an accepted mutant does.
 *
 * ```ts
 * controls: { dynamicBusybox: { apply: async (ctx) => { … }, revert: async (ctx) => { … } } }
 * ```
 */
export interface Control {
  /** makes the valid state */
  apply(ctx: SolveContext): Promise<void>;
  /** undoes it before the engine re-solves, where the solution alone cannot */
  revert?(ctx: SolveContext): Promise<void>;
}

/** One step: the checks that prove it, its reference solution, its hints and the near-miss states it must reject. */
export interface StepDef {
  /** the checks that prove the step: one fact each */
  verify(ctx: StepContext): readonly Check[];
  /** the reference solution: idempotent, printing each command it runs */
  solve(ctx: SolveContext): Promise<void>;
  /**
   * From a nudge to the full command. `{{nonce}}` and `{{dir}}` are filled in as in chapter.md,
   * wherever a hint is shown: `workshop hint` (and its `--json`) and a drill's hints. So is a
   * check's own hint (`fail(expected, actual, hint)`), in the failure table.
   */
  hints: readonly string[];
  mutants?: Readonly<Record<string, Mutant>>;
  /** valid states the reference solution does not make, which verify must accept (see {@link Control}) */
  controls?: Readonly<Record<string, Control>>;
  /**
   * Earlier steps whose state this one undoes on purpose (`'*'`: all of them), e.g. a cleanup step
   * that removes the file an earlier step made. When a step fails, `next` re-checks the earlier
   * steps and names those that no longer hold; these are not re-checked. Only that and
   * `solve --through` (which does not solve them again) read it: `workshop test` ignores it (its
   * steps run in order, each verified right after its own solve), and `lint` checks only that it
   * names earlier steps.
   */
  undoes?: readonly string[] | '*';
}

/**
 * A well-known path outside the workspace that a chapter's text, or a tutorial it follows, makes:
 * Container the Hard Way's `/littlebox`. `workshop clean` lists it, when it exists, for the
 * learner to remove, and never removes it: it lies outside the workspace, and may be the learner's.
 */
export interface OutsidePath {
  /** absolute, e.g. `/littlebox` */
  path: string;
  /** what makes it, as the learner would recognise it: "Container the Hard Way's docs/04 (mkdir -p /littlebox)" */
  madeBy: string;
  /** the command that removes it, e.g. `rmdir /littlebox` */
  remove: string;
}

/** A chapter: its id (the folder is `NN-id`), what it needs from the machine, its steps in the order of chapter.md, and the cleanup that removes what they make. */
export interface ChapterDef {
  formatVersion: number;
  id: string;
  title: string;
  requires?: readonly Requirement[];
  /** variables that `workshop env` exports after its own WORKSHOP_CHAPTER, WORKSHOP_DIR and WORKSHOP_NONCE (once the chapter has started), e.g. WAFERS; values may use the chapter folder */
  env?(ctx: CheckContext): Readonly<Record<string, string>>;
  /** prepares what the chapter starts from (e.g. a rootfs); runs when the chapter starts (after its nonce is drawn: `ctx.nonce` is the chapter's) and before `workshop test` */
  setup?(ctx: SolveContext): Promise<void>;
  /** steps in the order of chapter.md; each key is the `{#id}` of an H2 there */
  steps: Readonly<Record<string, StepDef>>;
  /** removes what the steps and the learner created, in reverse order; must be idempotent */
  cleanup(ctx: SolveContext): Promise<void>;
  /** paths outside the workspace that the text or its tutorial makes: `workshop clean` names them for the learner (see {@link OutsidePath}) */
  madeOutside?: readonly OutsidePath[];
  /**
   * What {@link ChapterDef.cleanup} would remove now, one line each as the learner reads it
   * (`rootfs/, with everything in it`, `the overlay mounted at /tmp/AbC/overlay`). `goto
   * --restore` and `reset` list it before they ask; without it they list what the residue
   * inventory finds in the chapter folder.
   */
  removes?(ctx: CheckContext): Promise<readonly string[]>;
  /**
   * The shell variables that the text sets in one step and uses in later ones (the seed's
   * `$nonce`), with the values the state has now. After a restore or a solve, which build where
   * the text says but cannot set a variable in the learner's shell, workshop prints them as one
   * line to paste (`nonce=AbC123xYz0`), so that the text works again.
   */
  shellVars?(ctx: CheckContext): Promise<Readonly<Record<string, string>>>;
  /**
   * What `workshop state` draws for this chapter: `'overlayfs'`, `{ family: 'lvm', vg: 'HostVG' }`,
   * or a list of them. A chapter without it has no picture.
   */
  state?: StateSpec;
}

/** Declares a chapter: steps.ts does `export default defineChapter({ … })`. An identity function that exists for its types; `workshop lint` validates the value. */
export function defineChapter<const T extends ChapterDef>(chapter: T): T {
  return chapter;
}

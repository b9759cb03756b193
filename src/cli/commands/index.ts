// The explicit list of commands, in the order of `workshop --help`: nothing is discovered from
// the file system. Each command's table is in its own file (src/cli/command.ts), loaded only
// when it runs. `hot`: a command a learner types all day, bundled into main.ts's chunk so that it
// loads no chunk of its own (scripts/build.mjs reads this; issue 14: status ≤ 1.3x `node -e 0`).
// A command's file is commands/NAME.ts.
import type { CommandDef, Lazy } from '../command.ts';

export interface CommandEntry {
  load: Lazy<CommandDef>;
  hot?: true;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  status: { hot: true, load: () => import('./status.ts').then((m) => m.default) },
  show: { hot: true, load: () => import('./show.ts').then((m) => m.default) },
  next: { hot: true, load: () => import('./next.ts').then((m) => m.default) },
  check: { load: () => import('./check.ts').then((m) => m.default) },
  hint: { hot: true, load: () => import('./hint.ts').then((m) => m.default) },
  answer: { load: () => import('./answer.ts').then((m) => m.default) },
  ask: { load: () => import('./ask.ts').then((m) => m.default) },
  solve: { load: () => import('./solve.ts').then((m) => m.default) },
  watch: { load: () => import('./watch.ts').then((m) => m.default) },
  select: { load: () => import('./select.ts').then((m) => m.default) },
  goto: { load: () => import('./goto.ts').then((m) => m.default) },
  drill: { load: () => import('./drill.ts').then((m) => m.default) },
  list: { hot: true, load: () => import('./list.ts').then((m) => m.default) },
  reset: { load: () => import('./reset.ts').then((m) => m.default) },
  clean: { load: () => import('./clean.ts').then((m) => m.default) },
  doctor: { hot: true, load: () => import('./doctor.ts').then((m) => m.default) },
  test: { load: () => import('./test.ts').then((m) => m.default) },
  lint: { load: () => import('./lint.ts').then((m) => m.default) },
  record: { load: () => import('./record.ts').then((m) => m.default) },
  state: { load: () => import('./state.ts').then((m) => m.default) },
  path: { load: () => import('./path.ts').then((m) => m.default) },
  env: { load: () => import('./env.ts').then((m) => m.default) },
  lab: { load: () => import('./lab.ts').then((m) => m.default) },
  shell: { load: () => import('./shell.ts').then((m) => m.default) },
  classroom: { load: () => import('./classroom.ts').then((m) => m.default) },
  pack: { load: () => import('./pack.ts').then((m) => m.default) },
};

/** Every command's table, in order: `workshop --help` and the README's table need them all. */
export const loadAll = (): Promise<CommandDef[]> => Promise.all(Object.values(COMMANDS).map((c) => c.load()));

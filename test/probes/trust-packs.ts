// Probes of issue 19's lesson-pack items (11, 12, the verify case of 8), through the built binary:
// one-step packs whose steps.ts misbehaves at import, in a check, in verify, in solve, in a mutant,
// in setup or in cleanup (exits, reallyExit, abort, kills its own process, loops, never settles,
// throws what cannot be shown, prints to stdout), each put through every command that loads or
// runs lesson code. Every probe must end with an exit code in 0-4 or 130/137/143, print no stack
// trace and no "bug in workshop", keep --json one document, never pass (exit 0) a step or a
// chapter whose code did not really return, never record such a step as done, and leave no lesson
// host or other process, no lock or temp file, no mount behind.
//
//   sudo flock /tmp/workshop-system.lock node_modules/.bin/node test/probes/trust-packs.ts
//
// About 5 minutes (the loops at import wait out the 5 s import limit). Exit 0 only when every probe held.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateState } from '../../src/engine/progress.ts';
import { leftovers as leftoversIn, processesUnder, ProbeRecord, runCli, runFamilies, type Ran } from './record.ts';

const BASE = mkdtempSync('/tmp/ws-probe-packs-');
const rec = new ProbeRecord();

/** Where the misbehaviour is, and so which commands it must never let pass. */
type Where = 'none' | 'import' | 'verify' | 'solve' | 'mutant' | 'setup' | 'cleanup';

interface Behaviour {
  name: string;
  where: Where;
  top?: string;
  /** the step's single check's probe (a function expression); passes once solve ran, by default */
  check?: string;
  /** the whole verify (an expression of ctx), instead of the one check */
  verify?: string;
  solve?: string;
  mutant?: string;
  setup?: string;
  cleanup?: string;
}

const EXIT_ODD = "{ get message() { throw new Error('no message'); }, toString() { throw new Error('no string'); } }";
const behaviours: Behaviour[] = [
  { name: 'healthy', where: 'none' },
  { name: 'prints at import', where: 'none', top: "console.log('hello from steps.ts'); process.stdout.write('{\"not\": \"json\"\\n');" },
  { name: 'prints in its check', where: 'none', check: "(c) => { console.log('checking'); return existsSync(c.path('done.txt')) ? pass('there') : fail('done.txt', 'missing'); }" },
  { name: 'prints in solve', where: 'none', solve: "async ({ $ }) => { console.log('solving'); process.stdout.write('[1,'); await $`touch done.txt`; }" },
  { name: 'exit(0) at import', where: 'import', top: 'process.exit(0);' },
  { name: 'exit(1) at import', where: 'import', top: 'process.exit(1);' },
  { name: 'reallyExit(0) at import', where: 'import', top: 'process.reallyExit(0);' },
  { name: 'abort() at import', where: 'import', top: 'process.abort();' },
  { name: 'SIGKILL to itself at import', where: 'import', top: "process.kill(process.pid, 'SIGKILL');" },
  { name: 'while (true) at import', where: 'import', top: 'while (true) {}' },
  { name: 'an await that never settles at import', where: 'import', top: 'await new Promise(() => {});' },
  { name: 'throws at import', where: 'import', top: "throw new Error('boom at import');" },
  { name: 'throws an unshowable object at import', where: 'import', top: `throw ${EXIT_ODD};` },
  { name: 'exit(0) in a check', where: 'verify', check: '() => process.exit(0)' },
  { name: 'reallyExit(0) in a check', where: 'verify', check: '() => process.reallyExit(0)' },
  { name: 'abort() in a check', where: 'verify', check: '() => process.abort()' },
  { name: 'SIGKILL to itself in a check', where: 'verify', check: "() => { process.kill(process.pid, 'SIGKILL'); return pass('killed'); }" },
  { name: 'while (true) in a check', where: 'verify', check: '() => { for (;;) {} }' },
  { name: 'a check that never settles', where: 'verify', check: '() => new Promise(() => {})' },
  { name: 'a check that throws an unshowable object', where: 'verify', check: `() => { throw ${EXIT_ODD}; }` },
  { name: 'a check that returns no result', where: 'verify', check: '() => 42' },
  { name: 'a check that returns a forged pass', where: 'verify', check: "() => ({ status: 'pass' })" },
  { name: 'verify that calls exit(0)', where: 'verify', verify: 'process.exit(0)' },
  { name: 'verify that throws', where: 'verify', verify: "(() => { throw new Error('no checks'); })()" },
  { name: 'verify that returns no list', where: 'verify', verify: "'pass'" },
  { name: 'exit(0) in solve', where: 'solve', solve: 'async () => { process.exit(0); }' },
  { name: 'reallyExit(0) in solve', where: 'solve', solve: 'async () => { process.reallyExit(0); }' },
  { name: 'abort() in solve', where: 'solve', solve: 'async () => { process.abort(); }' },
  { name: 'SIGKILL to itself in solve', where: 'solve', solve: "async () => { process.kill(process.pid, 'SIGKILL'); }" },
  { name: 'a solve that never settles', where: 'solve', solve: 'async () => { await new Promise(() => {}); }' },
  { name: 'a solve that throws an unshowable object', where: 'solve', solve: `async () => { throw ${EXIT_ODD}; }` },
  { name: 'exit(0) in a mutant', where: 'mutant', mutant: 'async () => { process.exit(0); }' },
  { name: 'a mutant that never settles', where: 'mutant', mutant: 'async () => { await new Promise(() => {}); }' },
  { name: 'exit(0) in setup', where: 'setup', setup: 'async () => { process.exit(0); }' },
  { name: 'a setup that never settles', where: 'setup', setup: 'async () => { await new Promise(() => {}); }' },
  { name: 'exit(0) in cleanup', where: 'cleanup', cleanup: 'async () => { process.exit(0); }' },
  { name: 'a cleanup that never settles', where: 'cleanup', cleanup: 'async () => { await new Promise(() => {}); }' },
  { name: 'a cleanup that throws', where: 'cleanup', cleanup: "async () => { throw new Error('cannot clean'); }" },
];

/** The pack of one behaviour: one chapter `b` of one step, whose check passes once done.txt exists. */
function writePack(b: Behaviour, dir: string): void {
  const folder = path.join(dir, '01-b');
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'chapter.md'), '# A probe\n\n## The step {#step}\n\nTouch done.txt.\n');
  const check = b.check ?? "(c) => (existsSync(c.path('done.txt')) ? pass('there') : fail('done.txt', 'missing'))";
  const verify = b.verify ?? `[defineCheck('done.txt is there', ${check}, { timeoutMs: 500 })]`;
  writeFileSync(
    path.join(folder, 'steps.ts'),
    `import { existsSync } from 'node:fs';
import { defineChapter, defineCheck, pass, fail } from 'workshop/lesson';
${b.top ?? ''}
export default defineChapter({
  formatVersion: 1,
  id: 'b',
  title: 'A probe',
  steps: {
    step: {
      verify: (ctx) => ${verify},
      solve: ${b.solve ?? 'async ({ $ }) => { await $`touch done.txt`; }'},
      hints: ['touch done.txt'],
      mutants: { gone: ${b.mutant ?? 'async ({ $ }) => { await $`rm -f done.txt`; }'} },
    },
  },
  ${b.setup === undefined ? '' : `setup: ${b.setup},`}
  cleanup: ${b.cleanup ?? 'async ({ $ }) => { await $`rm -f done.txt`; }'},
});
`,
  );
}

/** What a command must leave as it found it, and what it may never claim. */
interface Command {
  args: readonly string[];
  /** it runs the step's checks, or the solution and then the checks: exit 0 would be a pass */
  passes: readonly Where[];
  json?: true;
  timeoutMs?: number;
}
const COMMANDS: Command[] = [
  { args: ['lint'], passes: [] },
  { args: ['list'], passes: [] },
  { args: ['list', '--json'], passes: [], json: true },
  { args: ['show'], passes: [] },
  { args: ['hint'], passes: [] },
  { args: ['doctor', '--json'], passes: [], json: true },
  { args: ['check'], passes: ['import', 'verify'] },
  { args: ['check', '--json'], passes: ['import', 'verify'], json: true },
  { args: ['next'], passes: ['import', 'verify'] },
  { args: ['solve'], passes: ['import', 'verify', 'solve'] },
  { args: ['next', '--json'], passes: ['import', 'verify'], json: true },
  { args: ['test', '--json'], passes: ['import', 'verify', 'solve', 'mutant', 'setup', 'cleanup'], json: true, timeoutMs: 120_000 },
  { args: ['reset', 'b', '--yes'], passes: [] },
  { args: ['solve', '--json'], passes: ['import', 'verify', 'solve'], json: true },
  { args: ['clean'], passes: ['cleanup'] },
  { args: ['clean', '--json'], passes: ['cleanup'], json: true },
];

const stepDone = (home: string): boolean | 'invalid' => {
  const file = path.join(home, 'state.json');
  if (!existsSync(file)) return false;
  try {
    const c = validateState(JSON.parse(readFileSync(file, 'utf8')));
    return c.ok ? c.state.chapters['b']?.steps['step']?.done !== undefined : 'invalid';
  } catch {
    return 'invalid';
  }
};

/** Temp files and a lock a finished command must not leave in its home. */
const leftovers = (home: string): string[] => leftoversIn(home, (n) => /^lock/.test(n) || /\.tmp-\d+$|\.new$/.test(n));

/** A lesson host (or anything else) still running for this home a moment after the command ended. */
async function stillRunning(home: string): Promise<string[]> {
  for (let i = 0; i < 20; i++) {
    const left = processesUnder(home);
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return processesUnder(home).map((p) => `left running: ${p}`);
}

function problemsOf(b: Behaviour, c: Command, r: Ran, home: string): string[] {
  const p = rec.sane(r, (c.timeoutMs ?? 30_000) - 1000);
  if (c.json && r.stdout.trim() !== '') {
    try {
      JSON.parse(r.stdout);
    } catch {
      p.push(`--json printed no single document: ${JSON.stringify(r.stdout.slice(0, 80))}`);
    }
  }
  if (r.code === 0 && b.where !== 'none' && c.passes.includes(b.where)) p.push('exit 0: a pass for lesson code that never returned');
  if (c.args[0] === 'lint' && b.where === 'import' && r.code !== 4) p.push(`lint exit ${r.code} (want 4)`);
  // a setup that exits or never settles is the lesson's fault, not the machine's
  if (b.where === 'setup' && ['hint', 'check', 'next', 'solve'].includes(c.args[0] ?? '') && r.code !== 4) p.push(`exit ${r.code} (want 4, a lesson error): ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`);
  if (b.where === 'none' && c.args[0] === 'test' && r.code !== 0) p.push(`the healthy pack failed its self-test: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  const done = stepDone(home);
  if (done === 'invalid') p.push('state.json is not valid');
  if (done === true && ['import', 'verify', 'solve'].includes(b.where)) p.push('the step is recorded as done');
  return p;
}

async function packs(): Promise<void> {
  for (const [i, b] of behaviours.entries()) {
    const dir = path.join(BASE, `pack-${i}`);
    writePack(b, dir);
    const home = path.join(BASE, `home-${i}`);
    for (const c of COMMANDS) {
      await rec.probe('packs', `${b.name}: ${c.args.join(' ')}`, async () => {
        const args = c.args[0] === 'lint' ? ['lint', dir] : ['--lessons', dir, '--allow-host', ...c.args];
        const r = await runCli(args, { env: { WORKSHOP_HOME: home }, ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }) });
        return [...problemsOf(b, c, r, home), ...leftovers(home), ...(await stillRunning(home))];
      });
    }
  }
}

const left = await runFamilies(rec, { packs }, BASE);
const held = rec.report();
console.log(`stack traces: ${rec.stacks}; exits outside 0-4, 130, 137, 143: ${rec.badExits}; left behind: ${left.processes.length} processes, ${left.mounts.length} mounts; ${left.seconds} s`);
for (const x of [...left.processes, ...left.mounts]) console.log(`  left: ${x}`);
rec.failures();
process.exitCode = held && left.processes.length + left.mounts.length === 0 ? 0 : 1;

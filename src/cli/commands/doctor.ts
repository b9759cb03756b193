// `workshop doctor`: can this machine run the workshop, and which chapters will be skipped, and why.
import { detectVm } from '../../checks/host.ts';
import { isRoot } from '../../engine/guard.ts';
import { formatProblem, type LessonProblem } from '../../lessons/catalog.ts';
import { loadChapter } from '../../lessons/load.ts';
import { unmet } from '../../lessons/requires.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';

export default async function doctor(cli: Cli): Promise<number> {
  const j = cli.journey();
  const [vm, chapters] = await Promise.all([
    detectVm(),
    Promise.all(
      j.cat.chapters.map(async (c) => {
        const problems: LessonProblem[] = [];
        const loaded = await loadChapter(c, problems);
        if (!loaded) return { id: c.id, ready: false, missing: problems.map(formatProblem) };
        const reqs = loaded.def.requires ?? [];
        const missing = await unmet(reqs);
        return { id: c.id, ready: missing.length === 0, needs: reqs.map((r) => r.describe), missing };
      }),
    ),
  ]);
  const root = isRoot();
  const vmOk = vm.vm || cli.allowHost;
  const code = root && vmOk ? 0 : 3;
  if (cli.json) {
    cli.emit({ vm: { ...vm, allowHost: cli.allowHost }, root, chapters, ok: code === 0 });
    return code;
  }
  const st = styler(cli.color);
  const yes = st('green', '✔');
  const no = st('red', '✘');
  cli.out(`${vm.vm ? yes : cli.allowHost ? st('yellow', '!') : no} VM: ${vm.vm ? `yes (${vm.how})` : `no (${vm.how})${cli.allowHost ? '; --allow-host given' : ': solve, setup, clean and test refuse to run; --allow-host overrides'}`}`);
  cli.out(`${root ? yes : no} root: ${root ? 'yes' : 'no: run it as root: sudo workshop doctor'}`);
  cli.out('');
  for (const c of chapters) {
    cli.out(`${c.ready ? yes : st('yellow', '-')} ${c.id.padEnd(12)} ${c.ready ? 'ready' : `will be skipped: ${c.missing.join('; ')}`}`);
  }
  return code;
}

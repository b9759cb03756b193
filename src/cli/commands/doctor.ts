// `workshop doctor`: can this machine run the workshop, and which chapters will be skipped, and why.
import { isRoot } from '../../engine/guard.ts';
import { cachePath, readiness } from '../../engine/readiness.ts';
import { styler } from '../../render/style.ts';
import type { Cli } from '../cli.ts';
import { defineCommand } from '../command.ts';

async function doctor(cli: Cli): Promise<number> {
  const j = cli.journey();
  // The VM verdict and each chapter's requirements are probed once per boot (engine/readiness.ts)
  // unless --fresh asks for every probe again.
  const ready = await readiness(j.cat.chapters, { cache: cachePath(cli.home), fresh: cli.flags['fresh'] === true, vm: true });
  const chapters = j.cat.chapters.map((c, i) => {
    const r = ready.chapters[i];
    if (r === undefined || r.kind === 'broken') return { id: c.id, ready: false, missing: r?.problems ?? [] };
    return { id: c.id, ready: r.missing.length === 0, needs: r.needs, missing: r.missing };
  });
  const vm = ready.vm ?? { vm: false, how: 'not detected' };
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

export default defineCommand({
  meta: { name: 'doctor', summary: 'check the VM, root, kernel features and tools per chapter', usage: 'doctor [--fresh]', exit: '0/3' },
  flags: { fresh: { type: 'boolean', describe: 'probe everything again (the answers are otherwise kept until the next boot, an install or a changed steps.ts)' } },
  run: doctor,
});

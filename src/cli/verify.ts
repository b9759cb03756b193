// What next, check and watch share: start the step's chapter if needed, then run its checks.
import type { CheckResult } from '../checks/check.ts';
import type { Journey, Position, Started } from '../engine/journey.ts';
import { verifyStep } from '../engine/runner.ts';
import { renderStep } from '../render/step.ts';
import type { Cli } from './cli.ts';

export async function verifyAt(j: Journey, pos: Position, log: (l: string) => void): Promise<{ started: Started; results: CheckResult[] }> {
  const started = await j.start(pos.chapter);
  const results = await verifyStep(started.loaded, pos.step, started.place, log);
  return { started, results };
}

/** Prints a step as `show` does. */
export async function printStep(cli: Cli, pos: Position): Promise<void> {
  const j = cli.journey();
  cli.out(await renderStep({ chapter: pos.chapter, index: pos.index, nonce: j.place(pos.chapter.id)?.nonce, dir: j.ws.chapterDir(pos.chapter.id) }, cli.color));
}

// `workshop select`: a menu of steps on a terminal; `goto` is the scriptable form.
import { requireRoot } from '../../engine/guard.ts';
import { usageError } from '../../errors.ts';
import { withLock } from '../../engine/lock.ts';
import { isDone } from '../../engine/progress.ts';
import { chooseStep } from '../../render/menu.ts';
import type { Cli } from '../cli.ts';
import { currentPosition, findStep, openSession } from '../session.ts';
import { moveTo } from './goto.ts';

export default async function select(cli: Cli): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY || cli.json) throw usageError('select needs a terminal', 'use `workshop goto <chapter/step>` in scripts; `workshop list` shows the ids');
  requireRoot(cli.line);
  const s = openSession(cli);
  const cur = currentPosition(s);
  const items = s.cat.chapters.flatMap((c) =>
    c.text.steps.map((st, i) => ({
      value: `${c.id}/${st.id}`,
      name: `${isDone(s.state, c.id, st.id) ? '✔' : ' '} ${c.id} ${i + 1}. ${st.title}`,
    })),
  );
  const choice = await chooseStep('Where do you want to work?', items, `${cur.chapter.id}/${cur.step}`);
  return withLock(s.ws.lockPath, 'select', () => moveTo(s, findStep(s, choice)));
}

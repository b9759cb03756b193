// `workshop goto <chapter|chapter/step>`: choose where to work.
import { requireRoot } from '../../engine/guard.ts';
import { usageError } from '../../errors.ts';
import { withLock } from '../../engine/lock.ts';
import type { Cli } from '../cli.ts';
import { enter } from '../lifecycle.ts';
import { findStep, openSession, addresses, type Session, type Position } from '../session.ts';
import { printStep } from './show.ts';

export async function moveTo(s: Session, pos: Position): Promise<number> {
  await enter(s, pos);
  if (s.cli.json) s.cli.emit({ current: `${pos.chapter.id}/${pos.step}`, dir: s.ws.chapterDir(pos.chapter.id) });
  else await printStep(s, pos);
  return 0;
}

export default async function goto(cli: Cli): Promise<number> {
  const s = openSession(cli);
  const arg = cli.positionals[0];
  if (!arg) throw usageError('goto needs a chapter or a chapter/step', `for example: workshop goto ${addresses(s.cat)[1] ?? addresses(s.cat)[0] ?? 'chroot'}`);
  const pos = findStep(s, arg);
  requireRoot(cli.line);
  return withLock(s.ws.lockPath, 'goto', () => moveTo(s, pos));
}

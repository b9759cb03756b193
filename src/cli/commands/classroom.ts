// `workshop classroom serve|status|export|remove|free` (the instructor) and `join|leave` (a learner).
// Each subcommand lives in classroom/ and is imported on its own: only `serve` loads fastify.
import { usageError } from '../../errors.ts';
import type { Cli } from '../cli.ts';

export const SUBCOMMANDS: Readonly<Record<string, { usage: string; summary: string; load: () => Promise<{ default: (cli: Cli, args: string[]) => Promise<number> }> }>> = {
  serve: {
    usage: 'classroom serve [--host H] [--port P] [--db FILE|URL] [--stuck-after 10m] [--stuck-attempts 3] [--tls-cert F --tls-key F] [--learner-storage 8MiB] [--class-storage 512MiB] [--joins-per-address 30] [--joins-per-class 300] [--json]',
    summary: 'start the class server and its dashboard; prints the instructor URL and the join code',
    load: () => import('./classroom/serve.ts'),
  },
  status: { usage: 'classroom status [--url URL --token T] [--json]', summary: 'a terminal summary of the class: who is where, who is stuck, common failures', load: () => import('./classroom/instructor.ts') },
  remove: { usage: 'classroom remove NAME [--url URL --token T]', summary: 'remove a learner from the class: their reports are deleted, the name is free', load: () => import('./classroom/instructor.ts') },
  free: { usage: 'classroom free NAME [--url URL --token T]', summary: 'free a learner\'s name: the next join under it takes the learner and their progress over (a rebuilt VM)', load: () => import('./classroom/instructor.ts') },
  export: { usage: 'classroom export [--format csv|json] [--url URL --token T]', summary: 'the class as CSV or JSON on stdout', load: () => import('./classroom/instructor.ts') },
  join: { usage: 'classroom join URL CODE --name NAME', summary: 'join a class: every next, check, solve, hint and reset then reports to it', load: () => import('./classroom/learner.ts') },
  leave: { usage: 'classroom leave', summary: 'leave the class: stop reporting and forget the token', load: () => import('./classroom/learner.ts') },
  __send: { usage: 'classroom __send', summary: 'internal: the detached sender that drains the outbox', load: () => import('./classroom/learner.ts') },
};

export const classroomHelp = (): string =>
  Object.entries(SUBCOMMANDS)
    .filter(([k]) => !k.startsWith('_'))
    .map(([, s]) => `  workshop ${s.usage}\n      ${s.summary}`)
    .join('\n');

export default async function classroom(cli: Cli): Promise<number> {
  const [sub, ...args] = cli.positionals;
  const spec = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (!sub || !spec) throw usageError(sub ? `unknown classroom command "${sub}"` : 'which classroom command?', `one of:\n${classroomHelp()}`);
  const { default: run } = await spec.load();
  return run(cli, [sub, ...args]);
}

// `workshop classroom serve|status|export|remove|free` (the instructor) and `join|leave` (a learner).
// Each subcommand lives in classroom/ with its own table and is imported on its own: only `serve`
// loads fastify.
import { usageError } from '../../errors.ts';
import { defineCommand, type CommandDef } from '../command.ts';
import { subcommandList } from '../help.ts';

const classroom: CommandDef = defineCommand({
  meta: { name: 'classroom', summary: 'a class: serve the live dashboard (instructor), or join one (learner)', usage: 'classroom serve|status|export|remove|free|message|hold|release|drill|join|leave ...', exit: '0; 2 usage, 3 no server' },
  maxArgs: Number.POSITIVE_INFINITY,
  subCommands: {
    serve: () => import('./classroom/serve.ts').then((m) => m.default),
    status: () => import('./classroom/instructor.ts').then((m) => m.status),
    remove: () => import('./classroom/instructor.ts').then((m) => m.remove),
    free: () => import('./classroom/instructor.ts').then((m) => m.free),
    export: () => import('./classroom/instructor.ts').then((m) => m.exportCommand),
    message: () => import('./classroom/instructor.ts').then((m) => m.message),
    hold: () => import('./classroom/instructor.ts').then((m) => m.hold),
    release: () => import('./classroom/instructor.ts').then((m) => m.release),
    drill: () => import('./classroom/instructor.ts').then((m) => m.drill),
    join: () => import('./classroom/learner.ts').then((m) => m.joinCommand),
    leave: () => import('./classroom/learner.ts').then((m) => m.leaveCommand),
    __send: () => import('./classroom/learner.ts').then((m) => m.sendCommand),
  },
  // reached only without a subcommand, or with one it does not know
  run: async (cli) => {
    const [sub] = cli.positionals;
    throw usageError(sub ? `unknown classroom command "${sub}"` : 'which classroom command?', `one of:\n${await subcommandList(classroom)}`);
  },
});

export default classroom;

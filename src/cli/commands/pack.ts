// `workshop pack add|list|remove|use`: lesson packs installed in the home, and the one in use.
// Each subcommand has its own table in pack/; only `add` loads the lint and the clients.
import { usageError } from '../../errors.ts';
import { defineCommand, type CommandDef } from '../command.ts';
import { subcommandList } from '../help.ts';

const pack: CommandDef = defineCommand({
  meta: { name: 'pack', summary: 'lesson packs: add one (folder, git URL, npm), list them, use one, remove one', usage: 'pack add|list|use|remove ...', exit: '0; 2 usage, 3 fetch failed, 4 not a pack' },
  maxArgs: Number.POSITIVE_INFINITY,
  subCommands: {
    add: () => import('./pack/add.ts').then((m) => m.default),
    list: () => import('./pack/manage.ts').then((m) => m.listCommand),
    use: () => import('./pack/manage.ts').then((m) => m.useCommand),
    remove: () => import('./pack/manage.ts').then((m) => m.removeCommand),
  },
  // reached only without a subcommand, or with one it does not know
  run: async (cli) => {
    const [sub] = cli.positionals;
    throw usageError(sub ? `unknown pack command "${sub.slice(0, 40)}"` : 'which pack command?', `one of:\n${await subcommandList(pack)}`);
  },
});

export default pack;

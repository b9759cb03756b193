// `workshop lab up|down|status`: the lab network of the network chapters (ws-host plays the VM
// host, ws-net the internet). Deciding is here; building and tearing down is checks/lab.ts,
// reached through engine/lab-network.ts.
// `workshop lab image build` (the hosted labs' VM image) lives in lab-image.ts.
import { LAB, labDown, labStatus, labUp, type LabStatus } from '../../engine/lab-network.ts';
import { requireVm } from '../../engine/guard.ts';
import { didYouMean, usageError } from '../../errors.ts';
import type { Cli } from '../cli.ts';
import { defineCommand, type CommandDef } from '../command.ts';

const ACTIONS = ['up', 'down', 'status', 'image'] as const;
type Action = Exclude<(typeof ACTIONS)[number], 'image'>;

/** An action that is not one: the error says which ones there are. */
function unknownAction(a: string): never {
  const guess = didYouMean(a, ACTIONS);
  throw usageError(`unknown lab action "${a}"`, `${guess ? `did you mean "workshop lab ${guess}"? ` : ''}usage: workshop lab up|down|status, or workshop lab image build`);
}

function describe(st: LabStatus): string[] {
  if (st.up) {
    return [
      `The lab is up: ${LAB.host} (the VM host, ${LAB.uplink} ${LAB.hostAddr}/${LAB.prefix}) and ${LAB.net} (the internet, ${LAB.inet} ${LAB.netAddr}/${LAB.prefix}).`,
      ...(st.namespaces.includes(LAB.box) ? [`The container netns ${LAB.box} exists too.`] : []),
      'Open a shell in the host with: workshop shell host',
    ];
  }
  return ['The lab is down:', ...st.problems.map((p) => `  - ${p}`), 'Start it with: workshop lab up'];
}

async function act(cli: Cli, action: Action): Promise<number> {
  if (action !== 'status') await requireVm(cli.allowHost, `take the lab ${action}`);
  const log = (l: string) => {
    if (!cli.json) cli.err(`$ ${l}`);
  };
  if (action === 'down') await labDown(log);
  else if (action === 'up') await labUp(log);
  const st = await labStatus();
  if (cli.json) cli.emit({ action, ...st });
  else for (const l of action === 'down' ? [st.namespaces.length === 0 ? 'The lab is down: ws-host, ws-net and ws-box are gone.' : `Still there: ${st.namespaces.join(', ')}`] : describe(st)) cli.out(l);
  if (action === 'down') return st.namespaces.length === 0 ? 0 : 1;
  return action === 'up' || st.up ? 0 : 1;
}

const actionCommand = (action: Action, summary: string, exit: string): CommandDef => defineCommand({ meta: { name: `lab ${action}`, summary, usage: `lab ${action}`, exit }, run: (cli) => act(cli, action) });
const up = actionCommand('up', 'build the lab network of chapter 07: ws-host (the VM host) and ws-net (the internet)', '0 up, 1 not');
const down = actionCommand('down', 'take the lab network down: ws-host, ws-net and ws-box go', '0 gone, 1 not');
const status = actionCommand('status', 'whether the lab network is up, and what is missing', '0 up, 1 down');

export default defineCommand({
  meta: { name: 'lab', summary: "the lab network of the network chapters (up, down, status); the hosted labs' VM image (image build)", usage: 'lab up|down|status | lab image build ...', exit: '0/1' },
  // its own error for an action it does not know
  maxArgs: Number.POSITIVE_INFINITY,
  needs: { root: true },
  subCommands: { up: async () => up, down: async () => down, status: async () => status, image: () => import('./lab-image.ts').then((m) => m.default) },
  // `workshop lab` alone is `workshop lab status`
  run: (cli) => (cli.positionals[0] === undefined ? act(cli, 'status') : unknownAction(cli.positionals[0])),
});

// `workshop lab up|down|status`: the lab network of the network chapters (ws-host plays the VM
// host, ws-net the internet). Deciding is here; building and tearing down is checks/lab.ts.
// `workshop lab image build` (the hosted labs' VM image) lives in lab-image.ts.
import { LAB, labDown, labStatus, labUp, type LabStatus } from '../../checks/lab.ts';
import { requireRoot, requireVm } from '../../engine/guard.ts';
import { didYouMean, usageError } from '../../errors.ts';
import type { Cli } from '../cli.ts';

const ACTIONS = ['up', 'down', 'status', 'image'] as const;
type Action = (typeof ACTIONS)[number];

/** Pure: which action the arguments ask for. */
export function labAction(positionals: readonly string[]): Action {
  const a = positionals[0] ?? 'status';
  if ((ACTIONS as readonly string[]).includes(a)) return a as Action;
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

export default async function lab(cli: Cli): Promise<number> {
  const action = labAction(cli.positionals);
  requireRoot(cli.line);
  if (action === 'image') return (await import('./lab-image.ts')).default(cli);
  if (cli.positionals.length > 1) throw usageError(`too many arguments: ${cli.positionals.slice(1).join(' ')}`, `usage: workshop lab ${action}`);
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

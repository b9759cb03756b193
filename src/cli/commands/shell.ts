// `workshop shell host|net|box [-- CMD…]`: a shell (or one command) inside a lab namespace, so
// that the seed's commands (ip link add br0 …, iptables -t nat …) act on the lab, never on the
// machine's own network.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB, labStatus, runAttached } from '../../engine/lab-network.ts';
import { requireRoot } from '../../engine/guard.ts';
import { didYouMean, envError, usageError } from '../../errors.ts';
import type { Cli } from '../cli.ts';
import { workspace } from '../../engine/workspace.ts';
import { defineCommand } from '../command.ts';

const PLACES = { host: LAB.host, net: LAB.net, box: LAB.box } as const;
type Place = keyof typeof PLACES;

export interface ShellPlan {
  place: Place;
  netns: string;
  /** the command to run; empty means an interactive shell */
  command: string[];
}

/** Pure: what `workshop shell …` asks for. */
export function shellPlan(positionals: readonly string[]): ShellPlan {
  const [where, ...command] = positionals;
  if (where === undefined) throw usageError('which namespace? workshop shell host|net|box', 'host is the VM host of the lab, net the internet, box the container of chapter 07');
  if (!(where in PLACES)) {
    const guess = didYouMean(where, Object.keys(PLACES));
    throw usageError(`unknown lab namespace "${where}"`, `${guess ? `did you mean "workshop shell ${guess}"? ` : ''}usage: workshop shell host|net|box [-- CMD…]`);
  }
  const place = where as Place;
  return { place, netns: PLACES[place], command };
}

/**
 * nsenter joins the network namespace only, and a private mount namespace gets a fresh /sys
 * (so that `brctl show` and /sys/class/net see the lab's links). Unlike `ip netns exec`, it does
 * not make every mount a slave: /run/netns stays shared, so an `ip netns add ws-box` typed inside
 * is visible outside (with ip netns exec it would vanish with the shell; measured).
 */
export function shellArgv(p: ShellPlan, rcfile: string): string[] {
  const inner = p.command.length > 0 ? p.command : ['bash', '--rcfile', rcfile, '-i'];
  return [
    'nsenter', `--net=/run/netns/${p.netns}`, '--',
    'unshare', '--mount', '--propagation', 'unchanged', '--',
    'sh', '-c', 'mount --make-rslave /sys && mount -t sysfs "$0" /sys && exec "$@"', p.netns,
    ...inner,
  ];
}

async function shell(cli: Cli): Promise<number> {
  const plan = shellPlan(cli.positionals);
  requireRoot(cli.line);
  const st = await labStatus();
  if (!st.up) throw envError(`the lab is not up (${st.problems.join('; ')})`, 'run `workshop lab up` first');
  if (!st.namespaces.includes(plan.netns)) throw envError(`${plan.netns} does not exist yet`, 'chapter 07 creates it in its netns step: ip netns add ws-box');
  const dir = workspace(cli.home).labDir;
  const rcfile = join(dir, 'shell.bashrc');
  if (plan.command.length === 0) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(rcfile, `[ -f ~/.bashrc ] && . ~/.bashrc\nPS1='[lab ${plan.netns}] \\w\\$ '\necho "You are in ${plan.netns}, a network namespace of the lab. exit (or Ctrl-D) leaves it."\n`);
  }
  const [cmd = 'nsenter', ...args] = shellArgv(plan, rcfile);
  return runAttached(cmd, args, { env: { WORKSHOP_LAB: plan.netns } });
}

export default defineCommand({
  meta: { name: 'shell', summary: 'a shell, or one command, inside a lab namespace (host, net or box)', usage: 'shell host|net|box [-- CMD...]', exit: "the shell's" },
  maxArgs: Number.POSITIVE_INFINITY,
  needs: { root: true },
  run: shell,
});

// The life cycle of one learner's VM, behind a small interface: qemu on this machine (qemu.ts),
// KubeVirt on paper (docs/hosted-labs.md, kubevirt.ts). Everything above it (labs.ts, the class
// server) speaks only this.
import type { Duplex } from 'node:stream';

/** Per-VM bounds (`--lab-memory`, `--lab-cpus`). */
export interface VmSpec {
  memoryMiB: number;
  cpus: number;
}

export const DEFAULT_SPEC: VmSpec = { memoryMiB: 1024, cpus: 1 };

/** Where a VM is. A stopped VM keeps its disk; an absent one has none. */
export type VmStatus = { state: 'absent' } | { state: 'stopped' } | { state: 'running'; pid: number };

export interface VmRecord {
  id: string;
  spec: VmSpec;
  createdAt: string;
  status: VmStatus;
}

export interface LabDriver {
  /** 'qemu (tcg)', 'qemu (kvm)', 'kubevirt': for messages and the docs */
  readonly describe: string;
  /** A VM with its own copy-on-write disk on the base image, not yet booted. */
  create(id: string, spec: VmSpec): Promise<VmRecord>;
  /** Boots it; returns once the VM runs (not once the guest is up: the channel tells that). */
  start(id: string): Promise<void>;
  /** Powers it off (the guest is asked first, then it is killed); the disk is kept. */
  stop(id: string, graceMs?: number): Promise<void>;
  /** Stops it and removes its disk and everything else of it. */
  destroy(id: string): Promise<void>;
  /** The byte stream to the guest agent (protocol.ts). One at a time per VM. */
  console(id: string): Promise<Duplex>;
  status(id: string): Promise<VmStatus>;
  /** Every VM this driver has, running or not: what a restarted server finds again. */
  list(): Promise<VmRecord[]>;
}

/** VM ids become file names and qemu arguments: a safe alphabet only. */
export const VM_ID = /^[a-z0-9][a-z0-9-]{0,47}$/;

export function checkVmId(id: string): string {
  if (!VM_ID.test(id)) throw new Error(`bad VM id "${id}": use 1-48 of a-z, 0-9 and -`);
  return id;
}

/** A spec from outside (flags, a state file), checked and bounded. */
export function parseSpec(v: unknown): VmSpec | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { memoryMiB, cpus } = v as { memoryMiB?: unknown; cpus?: unknown };
  if (!Number.isInteger(memoryMiB) || !Number.isInteger(cpus)) return undefined;
  const m = memoryMiB as number;
  const c = cpus as number;
  if (m < 256 || m > 65_536 || c < 1 || c > 64) return undefined;
  return { memoryMiB: m, cpus: c };
}

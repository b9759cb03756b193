// Which learner holds which VM, kept in <state>/labs.json (temp + rename), so that a restarted
// class server gives each learner the same VM again. The VMs themselves are the driver's: this
// file only says whose they are. Reconciling the two is a pure function.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VmRecord } from './driver.ts';

export interface LabEntry {
  vm: string;
  /** null: a warm VM that no learner holds yet */
  learner: string | null;
  claimedAt: string | null;
  /** ms since epoch of the learner's last keystroke, attach or report */
  lastActive: number;
  /** the guest's boot id when the host last spoke to it: a new one means mounts are gone */
  bootId: string | null;
}

export const labsFile = (stateDir: string): string => join(stateDir, 'labs.json');

function entryOf(v: unknown): LabEntry | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const e = v as Partial<Record<keyof LabEntry, unknown>>;
  if (typeof e.vm !== 'string') return undefined;
  return {
    vm: e.vm,
    learner: typeof e.learner === 'string' ? e.learner : null,
    claimedAt: typeof e.claimedAt === 'string' ? e.claimedAt : null,
    lastActive: typeof e.lastActive === 'number' ? e.lastActive : 0,
    bootId: typeof e.bootId === 'string' ? e.bootId : null,
  };
}

export function readEntries(stateDir: string): LabEntry[] {
  try {
    const v = JSON.parse(readFileSync(labsFile(stateDir), 'utf8')) as { labs?: unknown };
    return Array.isArray(v.labs) ? v.labs.flatMap((e) => entryOf(e) ?? []) : [];
  } catch {
    return [];
  }
}

export function writeEntries(stateDir: string, entries: readonly LabEntry[]): void {
  const path = labsFile(stateDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify({ version: 1, labs: entries }, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/**
 * The entries that match the driver's VMs: an entry whose VM is gone is dropped, a VM that no
 * entry names (its server died between creating it and writing the file) becomes a warm one.
 */
export function reconcile(entries: readonly LabEntry[], vms: readonly VmRecord[], now: number): LabEntry[] {
  const have = new Set(vms.map((v) => v.id));
  const kept = entries.filter((e) => have.has(e.vm));
  const named = new Set(kept.map((e) => e.vm));
  const orphans = vms.filter((v) => !named.has(v.id)).map((v): LabEntry => ({ vm: v.id, learner: null, claimedAt: null, lastActive: now, bootId: null }));
  return [...kept, ...orphans];
}

/** The entries idle for longer than `idleMs` among those held by a learner. */
export function idleEntries(entries: readonly LabEntry[], now: number, idleMs: number): LabEntry[] {
  return entries.filter((e) => e.learner !== null && now - e.lastActive >= idleMs);
}

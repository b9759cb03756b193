// Loop devices: `losetup -J -l`, parsed purely. The inventory, the btrfs and lvm checks and their
// chapters all read it.
import { runOk } from '../sys/exec.ts';
import { isRecord } from '../sys/lang.ts';

/** A loop device and its backing file (null when it has none). */
export interface LoopDevice {
  name: string;
  backFile: string | null;
}


/** `losetup -J -l`. A backing file deleted since shows as "PATH (deleted)" (recorded); it is still that path. */
export function parseLosetupJson(text: string): LoopDevice[] {
  if (text.trim() === '') return [];
  const v: unknown = JSON.parse(text);
  if (!isRecord(v) || !Array.isArray(v['loopdevices'])) throw new Error('losetup -J: no "loopdevices" array');
  return v['loopdevices'].map((d: unknown) => {
    if (!isRecord(d) || typeof d['name'] !== 'string') throw new Error('losetup -J: a device without a name');
    const back = typeof d['back-file'] === 'string' ? d['back-file'].replace(/ \(deleted\)$/, '') : null;
    return { name: d['name'], backFile: back };
  });
}

/** The one reader of `losetup -J -l`: every loop device with its backing file. */
export const readLoopDevices = async (): Promise<LoopDevice[]> => parseLosetupJson(await runOk('losetup', ['-J', '-l'], { timeoutMs: 10_000 }));

// One fact each about a control group a step makes: it exists, and one of its limits has a value.
// Chapter 08 judges its own cgroup in its checks; these are the generic ones that `workshop
// record` drafts for a new cgroup, by its absolute folder (cgroup v1 or v2 alike).
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { defineCheck, fail, pass, type Check } from './check.ts';

/** The cgroup folder `dir` (e.g. /sys/fs/cgroup/pids/ws-demo) exists. */
export const cgroupExists = (dir: string): Check =>
  defineCheck(`the cgroup ${dir} exists`, async () => {
    const st = await stat(join(dir, 'cgroup.procs')).catch(() => null);
    return st ? pass(`${dir}/cgroup.procs`) : fail(`a cgroup at ${dir}`, 'no such cgroup', `mkdir ${dir}`);
  });

/** The limit file `file` of the cgroup `dir` reads `value` (`pids.max` = `20`). */
export const cgroupLimit = (dir: string, file: string, value: string): Check =>
  defineCheck(`${basename(dir)}'s ${file} is ${value}`, async () => {
    const got = await readFile(join(dir, file), 'utf8').then((t) => t.trim(), () => null);
    if (got === null) return fail(`${file} = ${value}`, `${dir}/${file} cannot be read: is there a cgroup at ${dir}?`, `mkdir ${dir}`);
    return got === value ? pass(`${file} = ${got}`) : fail(`${file} = ${value}`, `${file} = ${got}`, `echo ${value} > ${dir}/${file}`);
  });

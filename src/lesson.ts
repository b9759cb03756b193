// `workshop/lesson`: the public authoring API. A pack's steps.ts imports only from here.
export { defineChapter, diagnosed, FORMAT_VERSION } from './lessons/define.ts';
export type { ChapterDef, StepDef, StepContext, SolveContext, Mutant, Requirement, Probe } from './lessons/define.ts';
export { kernelFs, tool, file, deviceMapperTarget, root, which } from './lessons/requires.ts';
export { buildBusyboxRootfs, BUSYBOX, ROOTFS_DIRS } from './lessons/rootfs.ts';

export { defineCheck, pass, fail, verdictOf } from './checks/check.ts';
export type { Check, CheckResult, CheckContext, Verdict } from './checks/check.ts';
export { run, runOk, runInNetns } from './checks/exec.ts';
export type { RunResult, RunOptions } from './checks/exec.ts';

export * from './checks/fs.ts';
export * from './checks/mounts.ts';
export * from './checks/overlay.ts';
export * from './checks/proc.ts';
export * from './checks/host.ts';
export * from './checks/loop.ts';
export * from './checks/btrfs.ts';
export * from './checks/lvm.ts';
export * from './checks/stacks.ts';
export * from './checks/net.ts';
export * from './checks/iptables.ts';
export { LAB, labUp, labDown, labStatus, deleteNetns } from './engine/lab.ts';
export type { LabStatus } from './engine/lab.ts';
export * from './checks/ns.ts';
export * from './checks/cgroup.ts';

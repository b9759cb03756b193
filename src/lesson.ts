// `workshop/lesson`: the public authoring API, and only what is listed here. A pack's steps.ts
// imports only from this module; docs/lesson-api.md is generated from it (npm run docs).

// Defining a chapter
export { FORMAT_VERSION, defineChapter, diagnosed } from './lessons/define.ts';
export type { ChapterDef, Control, Mutant, MutantRecovery, OutsidePath, Probe, Requirement, SolveContext, StepContext, StepDef } from './lessons/define.ts';
// What a chapter needs from the machine
export { deviceMapperTarget, file, kernelFs, root, tool, which } from './lessons/requires.ts';
// The busybox rootfs the chapters start from
export { BUSYBOX, CONTROL_DEBS, ROOTFS_DIRS, buildBusyboxRootfs, buildDynamicBusyboxRootfs, type LoaderPlace } from './lessons/rootfs.ts';
// The check model: one check is one fact
export { defineCheck, fail, pass, verdictOf } from './checks/check.ts';
export type { Check, CheckContext, CheckResult, Verdict } from './checks/check.ts';
// Running commands (never throws for a non-zero exit)
export { run, runInNetns, runOk } from './sys/exec.ts';
export type { RunOptions, RunResult } from './sys/exec.ts';
// Small helpers
export { isRecord, once, sleep } from './sys/lang.ts';
// Files and folders
export { directoryExists, fileContains, fileExists, isExecutableFile, modifiedSince, pathAbsent, symlinkTo, treeManifest, treeMatches } from './checks/files.ts';
// The chroot family: static binaries, a shell that runs under chroot
export { isStaticExecutable, shellRunsUnderChroot } from './checks/chroot.ts';
export type { ManifestEntry } from './checks/files.ts';
// The machine
export { ownedByRoot, runningAsRoot, runningInVm } from './checks/host.ts';
// Mounts (/proc/PID/mountinfo)
export { allMountsAt, hiddenBy, mountedAt, mountsAt, mountsUnder, notMountedAt, parseMountinfo, readMountinfo } from './checks/mounts.ts';
export type { MountEntry } from './checks/mounts.ts';
// overlayfs
export { findOverlayWithLower, isWritableOverlay, judgeOverlay, overlayMounted, overlayWithLowerMounted, overlaysWithLower, parseOverlayOptions } from './checks/overlayfs.ts';
export type { FoundOverlay, OverlayExpectation, OverlayLayers } from './checks/overlayfs.ts';
// overlayfs: what the upper layer holds
export { isOpaqueDir, isWhiteout } from './checks/overlayfs-upper.ts';
// Processes
export { ancestors, containersUnder, isContainerUnder, isPathUnder, listPids, nsLinks, parseStatus, procCwd, procRoot, processesUnder, readStatus } from './checks/proc.ts';
export { parseStatStart, processStart } from './sys/process.ts';
export type { ProcStatus, ProcessPlace } from './checks/proc.ts';
// Loop devices
export { readLoopDevices } from './checks/loop.ts';
export type { LoopDevice } from './checks/loop.ts';
// btrfs
export { BTRFS_MAGIC_OFFSET, hasBtrfsSuperblock, isSubvolume, loopMountOf, muchSmallerThan, receivedFrom, receivedOnTopOf, sendStreamOf, snapshotOf, sparseImage, subvolumeIsReadOnly, subvolumeIsWritable, whyNotSubvolume, type SparseImageOptions } from './checks/btrfs.ts';
export type { SubvolumeHow } from './checks/btrfs.ts';
// LVM thin provisioning
export { LVM_NO_UDEV_CONFIG, isReadOnlyLv, layerGrewBeyond, layerIsSparse, lvIsActive, lvIsReadOnly, lvIsSnapshotOf, lvIsWritable, pvsOfVg, readLvs, thinPoolExists, thinVolumeIn, vgOnLoopImage } from './checks/lvm.ts';
export type { LogicalVolume } from './checks/lvm.ts';
// Wafer stacks
export { readAncestry, stackExpectation, waferStacked, waferStackedAlone } from './checks/wafers.ts';
export type { Ancestry } from './checks/wafers.ts';
// Network namespaces, links, addresses, routes (ip -j)
export { cidrOf, inSubnet, inetAddrs, neighbourAnswered, netnsNames, netnsUsable, parseIpAddrs, pingFrom, readAddrs, readBridgePorts, readConntrack, readLinks, readLinksOfProcess, readNeighbours, readNetns, readRoutes, readSysctl } from './checks/networking.ts';
// One network object each: a named netns, a link with its kind, master and state, an address, a route, a NAT rule
export { addressOn, linkIn, natRule, netnsExists, routeVia } from './checks/net-objects.ts';
export type { LinkExpectation } from './checks/net-objects.ts';
// One cgroup a step makes: it exists, one of its limits has a value
export { cgroupExists, cgroupLimit } from './checks/cgroup-objects.ts';
// One process a step starts: it runs from the chapter folder, in namespaces of its own
export { processRunning, processesFrom } from './checks/proc-objects.ts';
export type { ProcessFacts } from './checks/proc-objects.ts';
export type { BridgePort, ConntrackEntry, IpAddress, IpLink, IpLinkAddresses, IpNeighbour, IpRoute, NetnsEntry, PingResult } from './checks/networking.ts';
// NAT (iptables-save in canonical form)
export { canonicalRule, masqueradeCovers, readNatTable } from './checks/iptables.ts';
export type { IptChain, IptRule, IptTable, Negatable } from './checks/iptables.ts';
// Namespaces and containers
export { containerInit, findContainers, hostHostname, hostMountsVisible, hostNamespaces, idMapOf, parseIdMap, interfacesOf, mapId, mountsOf, mountsOnlyInside, netnsHolders, procMountPidNs, processesRootedAt, processesWithBusyboxRoot, queuesIn, requireHostNamespaces, startedFrom, who } from './checks/namespaces.ts';
export type { Container, IdMapping, NsProcess, SysvQueue } from './checks/namespaces.ts';
// cgroups (v1 and v2)
export { CGROUP_ROOT, MIB, cgroupPathOf, cgroupsOf, controllersOf, describeLayout, detectLayout, groupPath, parseFlatKeyed, parseLimit, pidsIn, readCgroupFile } from './checks/cgroups.ts';
export type { CgroupLayout, CgroupVersion, Controller, ProcCgroupLine } from './checks/cgroups.ts';
// What `workshop state` draws for a chapter
export type { StateFamily, StateSpec, StateView } from './contract/state.ts';
// The lab network of the network chapters
export { LAB, deleteNetns, labDown, labStatus, labUp } from './checks/lab.ts';
export type { LabStatus } from './checks/lab.ts';

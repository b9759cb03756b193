// What `workshop lab` and `workshop shell` use of the lab network of the network chapters (ws-host
// plays the VM host, ws-net the internet, ws-box the container): built, torn down and probed by
// checks/lab.ts, beside the network checks that read the same namespaces. The cli reaches the
// checks only through the engine.
export { LAB, labDown, labStatus, labUp, type LabStatus } from '../checks/lab.ts';
/** A command attached to the learner's terminal (a shell in a lab namespace): its exit code is returned. */
export { runAttached } from '../sys/exec.ts';

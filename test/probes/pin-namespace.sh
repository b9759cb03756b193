#!/bin/bash
# How reliably each way of pinning a mount namespace works on this machine (docs/authoring.md,
# "Pinning a namespace"). Run as root under the system lock:
#   flock /tmp/workshop-system.lock bash test/probes/pin-namespace.sh [TRIES]
# Everything lives under /tmp/ws-pin-probe and is unmounted and removed at the end.
set -u
N=${1:-100}
d=/tmp/ws-pin-probe
mkdir -p $d

# unshare --mount=FILE, N tries: ok / EINVAL / other
try_unshare() {
  local ok=0 einval=0 other=0 out
  for _ in $(seq "$N"); do
    : > $d/mnt
    if out=$(unshare --mount=$d/mnt true 2>&1); then ok=$((ok + 1))
    elif [[ $out == *"Invalid argument"* ]]; then einval=$((einval + 1))
    else other=$((other + 1)); fi
    umount $d/mnt 2>/dev/null
  done
  echo "$1: ok=$ok einval=$einval other=$other of $N"
}

# a holder in its own mount namespace; nsenter through /proc/PID/ns/mnt and through a bound file
try_holder() {
  local bind=0 enter=0 direct=0 H
  : > $d/mnt
  for _ in $(seq "$N"); do
    unshare --mount --propagation private sleep 30 </dev/null >/dev/null 2>&1 &
    H=$!
    for _ in $(seq 100); do [[ $(readlink /proc/$H/ns/mnt) != $(readlink /proc/self/ns/mnt) ]] && break; sleep 0.01; done
    nsenter --mount=/proc/$H/ns/mnt true 2>/dev/null && direct=$((direct + 1))
    mount --bind /proc/$H/ns/mnt $d/mnt 2>/dev/null && bind=$((bind + 1))
    nsenter --mount=$d/mnt true 2>/dev/null && enter=$((enter + 1))
    umount $d/mnt 2>/dev/null
    kill $H
    wait $H 2>/dev/null
  done
  echo "$1: nsenter --mount=/proc/HOLDER/ns/mnt ok=$direct, mount --bind /proc/HOLDER/ns/mnt FILE ok=$bind, nsenter --mount=FILE ok=$enter of $N"
}

try_unshare "host namespace, FILE on /tmp"
try_holder "host namespace"
mount --bind $d $d && mount --make-shared $d
try_unshare "host namespace, FILE on a shared mount"
umount $d
export -f try_unshare try_holder
export d N
inner='mount -t tmpfs ws-pin-probe $d; try_unshare "$1 private namespace, FILE on a tmpfs (as under workshop test)"; try_holder "$1 private namespace, tmpfs"; umount $d'
unshare --mount --propagation private bash -c "$inner" - "two cores:"
# every process on one core: the namespaces' ids are then handed out in the order they are made
taskset -c 0 unshare --mount --propagation private bash -c "$inner" - "one core (taskset -c 0):"
umount $d/mnt $d 2>/dev/null
rm -rf $d

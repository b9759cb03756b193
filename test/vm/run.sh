#!/usr/bin/env bash
# Boots the Debian 13 guest of test/vm/build-image.sh (x86 or arm64) headless under qemu (TCG), runs one bash
# script in it (from /opt/workshop, as root, under the guest's own systemd), and brings back its
# stdout, stderr and exit code through a virtio-9p share.
#
#   sudo bash test/vm/run.sh [options] SCRIPT        # or: -c 'COMMANDS'
#
# Options:
#   -c CMDS              run these commands instead of a script file
#   --image DIR          an image folder of build-image.sh (default: build or find the current one)
#   --out DIR            keep the results there: cmd, stdout, stderr, rc, console.log, timings, and
#                        whatever the script writes to $WS_VM_SHARE (default: a temporary folder)
#   --timeout SEC        limit for the whole run, boot included (default $WORKSHOP_VM_TIMEOUT or 1800)
#   --boot-timeout SEC   limit until the guest runs the script (default 300; 900 for arm64, whose
#                        instructions qemu translates on this x86 machine)
# Environment: WORKSHOP_VM_TIMEOUT (see --timeout), WORKSHOP_VM_CACHE (the image cache), and
#   WORKSHOP_VM_APPEND: more words for the guest kernel's command line (a test of the boot retry
#   gives init=/bin/false).
# A guest whose kernel crashes before the script begins (a known race of multi-threaded TCG) is
# booted again, up to twice; a crash after it began is never retried.
# Exit: the script's exit code; 124 on a time-out; 125 when the guest did not boot or died;
#       3 when qemu is missing or this is not root.
# The guest's disk is the cached image in snapshot mode: writes go to a temporary file in the
# run folder, so that every run starts from the same state and the cache is never changed.
# qemu is killed by its PID whatever happens (trap); one guest runs at a time on the machine.
set -euo pipefail

here=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
CACHE=${WORKSHOP_VM_CACHE:-/var/cache/workshop-vm}
timeout=${WORKSHOP_VM_TIMEOUT:-1800}
boot_timeout=''
image='' out='' cmd='' script=''

say() { printf '==> vm: %s\n' "$*" >&2; }
die() { printf 'vm: error: %s\n' "$1" >&2; exit "${2:-1}"; }
now() { date +%s%N; }
secs() { local d=$(($2 - $1)); printf '%d.%01d' $((d / 1000000000)) $((d / 100000000 % 10)); }

while (($#)); do
  case $1 in
    -c) cmd=${2?}; shift 2 ;;
    --image) image=${2?}; shift 2 ;;
    --out) out=${2?}; shift 2 ;;
    --timeout) timeout=${2?}; shift 2 ;;
    --boot-timeout) boot_timeout=${2?}; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" 2 ;;
    *) script=$1; shift ;;
  esac
done
[[ -n $cmd || -n $script ]] || die "nothing to run: give a SCRIPT or -c 'COMMANDS' (see --help)" 2
[[ -z $script || -f $script ]] || die "no such script: $script" 2
[[ $timeout =~ ^[0-9]+$ && $boot_timeout =~ ^[0-9]*$ ]] || die "--timeout and --boot-timeout take seconds" 2

[[ $EUID -eq 0 ]] || die "run me as root: sudo bash $0" 3

if [[ -z $image ]]; then
  image=$(bash "$here/build-image.sh")
fi
[[ -f $image/image.json ]] || die "$image/image.json is missing: is $image an image folder of build-image.sh?" 2
# What to boot comes from the image's manifest (docs/image-builder.md).
node=$here/../../node_modules/.bin/node
[[ -x $node ]] || node=node
mapfile -t m < <("$node" -e '
  const m = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  for (const v of [m.arch, m.qemu.binary, m.qemu.machine, m.cmdline, m.disk, m.diskFormat, m.kernel, m.initrd]) console.log(v);
' "$image/image.json")
((${#m[@]} == 8)) || die "$image/image.json cannot be read" 2
arch=${m[0]} qemu_bin=${m[1]} machine=${m[2]} cmdline=${m[3]} disk=${m[4]} disk_format=${m[5]} kernel=${m[6]} initrd=${m[7]}
for f in "$kernel" "$initrd" "$disk"; do
  [[ -f $image/$f ]] || die "$image/$f is missing: is $image an image folder of build-image.sh?" 2
done
QEMU=$(command -v "$qemu_bin" || true)
case $arch in
  arm64)
    [[ -n $QEMU ]] || die "qemu for arm64 is not installed: apt-get install qemu-system-arm (or: sudo WORKSHOP_VM_TOOLS=1 WORKSHOP_VM_ARM64=1 bash vagrant/provision.sh)" 3
    # pauth-impdef: the CPU's own pointer-authentication hash instead of QARMA, which TCG computes slowly.
    cpu=max,pauth-impdef=on
    boot_timeout=${boot_timeout:-900} ;;
  *)
    [[ -n $QEMU ]] || die "qemu is not installed: apt-get install qemu-system-x86 (or: sudo WORKSHOP_VM_TOOLS=1 bash vagrant/provision.sh; CI gets it from provision.sh)" 3
    cpu=max ;;
esac
boot_timeout=${boot_timeout:-300}

# ---- the run folder, the lock, and the trap that always kills qemu -------------------------------
run=$(mktemp -d /tmp/ws-vm-run-XXXXXX)
share=${out:-$run/share}
mkdir -p -- "$share"
[[ -z $(ls -A -- "$share") ]] || die "--out $share is not empty" 2
qemu_pid=

alive() { local s; s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [[ $s != Z ]]; }
stop_qemu() {
  [[ -n $qemu_pid ]] || return 0
  if alive "$qemu_pid"; then
    kill -TERM "$qemu_pid" 2>/dev/null || true
    for _ in {1..50}; do alive "$qemu_pid" || break; sleep 0.1; done
    alive "$qemu_pid" && kill -KILL "$qemu_pid" 2>/dev/null
  fi
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=
}
finish() {
  local rc=$?
  trap - EXIT INT TERM HUP
  stop_qemu
  [[ -n $out && -f $run/console.log ]] && cp -- "$run/console.log" "$out/console.log" 2>/dev/null
  rm -rf -- "$run"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# One guest at a time on this machine (2 shared cores): wait for the others.
mkdir -p -- "$CACHE"
exec 8>"$CACHE/qemu.lock"
if ! flock -n 8; then
  say "another guest is running (lock $CACHE/qemu.lock): waiting"
  flock 8
fi

if [[ -n $script ]]; then cp -- "$script" "$share/cmd"; else printf '%s\n' "$cmd" >"$share/cmd"; fi

console=$run/console.log
tail_console() {
  say "the last console lines:"
  tr -d '\r' <"$console" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tail -n 40 | sed 's/^/    | /' >&2
}

# Boots the guest once and waits for qemu to end; sets t0, booted, qemu_cpu.
boot() {
  # The cache is never written: a raw disk runs in snapshot mode (its writes go to a temporary file in
  # the run folder: TMPDIR, so that a hang cannot fill another place), a qcow2 one gets a copy-on-write
  # overlay there, as each hosted lab does.
  if [[ $disk_format == qcow2 ]]; then
    rm -f -- "$run/overlay.qcow2"
    qemu-img create -q -f qcow2 -b "$image/$disk" -F qcow2 "$run/overlay.qcow2" || die "qemu-img create of the overlay failed" 3
    drive="file=$run/overlay.qcow2,format=qcow2,if=virtio,cache=unsafe"
  else
    drive="file=$image/$disk,format=raw,if=virtio,snapshot=on,cache=unsafe"
  fi
  t0=$(now)
  TMPDIR=$run nice -n 10 "$QEMU" \
    -M "$machine" -accel tcg,thread=multi -cpu "$cpu" -m 2048 -smp 2 -nographic -nic none -no-reboot \
    -kernel "$image/$kernel" -initrd "$image/$initrd" \
    -append "$cmdline panic=-1 systemd.show_status=1${WORKSHOP_VM_APPEND:+ $WORKSHOP_VM_APPEND}" \
    -drive "$drive" \
    -virtfs "local,path=$share,mount_tag=wsvm,security_model=none,id=wsvm" \
    </dev/null >"$console" 2>&1 &
  qemu_pid=$!
  say "qemu $qemu_pid started ($arch, multi-threaded TCG: one host thread per vCPU, 2 vCPU, 2 GiB; limit ${timeout} s, boot ${boot_timeout} s)"

  booted=
  qemu_cpu=0
  while alive "$qemu_pid"; do
    t=$(now)
    # its CPU time (user + system, in ticks): above the wall time only when both vCPUs' threads ran at once
    qemu_cpu=$(awk '{print $14 + $15}' "/proc/$qemu_pid/stat" 2>/dev/null || echo "$qemu_cpu")
    if [[ -z $booted ]] && grep -q '==WS-VM-BEGIN' "$console"; then
      booted=$t
      say "guest up, running the script ($(secs "$t0" "$t") s after qemu started)"
    fi
    if [[ -z $booted ]] && (((t - t0) / 1000000000 >= boot_timeout)); then
      tail_console
      die "the guest did not reach the harness within ${boot_timeout} s (see above where it stopped)" 125
    fi
    if (((t - t0) / 1000000000 >= timeout)); then
      tail_console
      if [[ -s $share/stderr ]]; then say "the last lines of the script's stderr:"; tail -n 20 -- "$share/stderr" | sed 's/^/    | /' >&2; fi
      die "time limit of ${timeout} s reached: qemu $qemu_pid killed" 124
    fi
    sleep 0.5
  done
}

boot
# A guest kernel that dies before the script began is booted again, up to twice. Multi-threaded
# TCG has a race in x86 code patching: the kernel's static keys are switched through int3
# (text_poke_bp), and a vCPU can still run the old translation with the int3 after the patch is
# done; the kernel then stops with "Oops: int3". Seen twice in a day: CI at stop 33, at 10.8 s of
# uptime in kmem_cache_free under systemd; the rehearsal of stop 34, at 2.45 s in sched_clock_cpu,
# just as the kernel marks sched_clock stable (a static key that both vCPUs run all the time).
# It is qemu's, not the script's: nothing of the script ran. A crash after the harness began is
# never retried.
for again in 1 2; do
  [[ -z $booted ]] && ! [[ -f $share/rc ]] && grep -qE 'Kernel panic|Oops:' "$console" || break
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=
  tail_console
  cp -- "$console" "$run/console-crashed-boot-$again.log"
  [[ -n $out ]] && cp -- "$console" "$out/console-crashed-boot-$again.log"
  say "the guest's kernel crashed during boot, before the script began (above); booting it again ($again of 2)"
  boot
done
t1=$(now)
wait "$qemu_pid" 2>/dev/null && qrc=0 || qrc=$?
qemu_pid=
[[ -n $booted ]] || booted=$t1
{
  printf 'boot_s=%s\n' "$(secs "$t0" "$booted")"
  printf 'script_s=%s\n' "$(secs "$booted" "$t1")"
  printf 'total_s=%s\n' "$(secs "$t0" "$t1")"
  printf 'qemu_cpu_s=%s\n' "$((qemu_cpu / $(getconf CLK_TCK)))"
  [[ -f $share/uptime-at-begin ]] && printf 'guest_uptime_at_begin_s=%s\n' "$(cat -- "$share/uptime-at-begin")"
} >"$share/timings"

if [[ ! -f $share/rc ]]; then
  tail_console
  die "qemu ended (exit $qrc) before the script finished: the guest did not boot, crashed or powered off early" 125
fi
rc=$(cat -- "$share/rc")
say "script exit $rc; boot $(secs "$t0" "$booted") s, script $(secs "$booted" "$t1") s, total $(secs "$t0" "$t1") s"
if [[ -z $out ]]; then
  cat -- "$share/stdout"
  cat -- "$share/stderr" >&2
fi
exit "$rc"

#!/usr/bin/env bash
# Runs INSIDE the guest (test/vm/test.sh hands it to run.sh): the whole curriculum's self-test,
# then `workshop clean`, then an independent look for residue. Everything lands in $WS_VM_SHARE:
#   env.txt      kernel, virtualization, cgroup file system, tool versions
#   trust.txt    guest-trust.sh: harmful homes refused, clean beside unrelated things   trust.rc
#   doctor.json  `workshop doctor --json`            doctor.rc
#   test.json    `workshop test --json`              test.rc
#                (one chapter per vCPU at once, never two that share machine-wide names:
#                engine/selftest-parallel.ts; so does --as-written, longest first in both)
#   clean.json   `workshop clean --json`             clean.rc
#   aswritten.json  `workshop test --as-written --json` (after the self-test): the chapters' own
#                text typed as a learner types it       aswritten.rc, aswritten.err
#   aswritten-clean.json  `workshop clean --json` after it                aswritten-clean.rc
#   facts.txt    facts the text quotes, measured here (mount's version and its error message)
#   residue.txt  what is left: loop devices, device-mapper devices, LVM, netns, ws* links and
#                cgroups, mounts under the workspace or /tmp/ws*; empty when clean
#   guest-timings  seconds per phase, measured in the guest
# Exit 0 only when guest-trust.sh held, the test passed, clean said clean, residue.txt is empty,
# and every chapter not in ASWRITTEN_PENDING passed as written (none is pending now).
set -u
out=${WS_VM_SHARE:?run me through test/vm/run.sh}
home=${WORKSHOP_HOME:-/var/lib/workshop}
step() { printf 'ws-vm-test: %s\n' "$*" >&2; }
t() { date +%s%N; }
dt() { local d=$(($2 - $1)); printf '%d.%01d' $((d / 1000000000)) $((d / 100000000 % 10)); }
export NO_COLOR=1
# qemu's software emulation is 5-10 times slower than a VM: check and command time limits catch
# what never finishes, not what is slow (a full run hit the 10 s check limit under a busy host).
# An arm64 guest on this x86 machine is slower again: qemu translates every instruction.
if [[ $(uname -m) == aarch64 ]]; then export WORKSHOP_TIME_SCALE=${WORKSHOP_TIME_SCALE:-10}
else export WORKSHOP_TIME_SCALE=${WORKSHOP_TIME_SCALE:-5}; fi
# Chapters whose text is not yet proven as written in this guest: their as-written result is
# reported but does not fail the harness. Every chapter passed as written here (issue 15), so
# none is pending; a new chapter may be listed while its text is proven.
ASWRITTEN_PENDING=${WORKSHOP_VM_ASWRITTEN_PENDING-}
# The stages to run (WORKSHOP_VM_STAGES, default all three): "aswritten" alone measures the text's
# run in a few minutes. A stage left out fails nothing and reports nothing.
STAGES=" ${WORKSHOP_VM_STAGES:-trust selftest aswritten} "
stage() { [[ $STAGES == *" $1 "* ]]; }

{
  printf 'kernel %s %s\n' "$(uname -r)" "$(uname -m)"
  printf 'virt %s\n' "$(systemd-detect-virt --vm || true)"
  printf 'cgroupfs %s\n' "$(stat -fc %T /sys/fs/cgroup)"
  printf 'cgroup.controllers %s\n' "$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
  printf 'systemd %s\n' "$(systemctl --version | head -1)"
  printf 'lvm %s\n' "$(lvm version 2>/dev/null | head -1 | sed 's/^ *//')"
  printf 'workshop %s\n' "$(workshop --version 2>&1)"
  printf 'node %s\n' "$(/opt/workshop/node_modules/.bin/node --version)"
  printf 'os %s\n' "$(. /etc/os-release && echo "$PRETTY_NAME")"
  printf 'system-state %s\n' "$(systemctl is-system-running 2>/dev/null)"
  printf 'cpus %s (the self-test runs this many chapters at once)\n' "$(nproc)"
} >"$out/env.txt" 2>&1
sed 's/^/ws-vm-test: /' "$out/env.txt" >&2

if [[ -n ${WORKSHOP_VM_MODPROBE:-} ]]; then
  step "modprobe -a $WORKSHOP_VM_MODPROBE (WORKSHOP_VM_MODPROBE)"
  # shellcheck disable=SC2086 # a list of module names
  modprobe -a $WORKSHOP_VM_MODPROBE >&2 || step "modprobe failed"
fi
# Issue 19: harmful homes are refused, and clean spares what is not the workshop's (guest-trust.sh).
if stage trust; then
  step "guest-trust.sh: harmful homes, and clean beside unrelated mounts and processes"
  tt0=$(t)
  bash /opt/workshop/test/vm/guest-trust.sh >"$out/trust.txt" 2>"$out/trust.err"
  echo $? >"$out/trust.rc"
  step "guest-trust.sh: exit $(cat "$out/trust.rc") in $(dt "$tt0" "$(t)") s; $(tail -1 "$out/trust.txt")"
else echo 0 >"$out/trust.rc"; fi
chapter_args=()
for c in ${WORKSHOP_VM_CHAPTERS:-}; do chapter_args+=(--chapter "$c"); done

# Longest chapters first (engine/selftest-parallel.ts orders by the home's last times): a fresh
# guest has none, and clean removes them, so each run starts from those measured in this guest
# (chapter-seconds.json).
seed() { mkdir -p "$home/selftest" && cp /opt/workshop/test/vm/chapter-seconds.json "$home/selftest/durations.json"; }
jobs=$(nproc)

t0=$(t)
step "workshop doctor"
workshop doctor --json >"$out/doctor.json" 2>"$out/doctor.err"
echo $? >"$out/doctor.rc"
t1=$(t)
if stage selftest; then
  step "workshop test --json ${chapter_args[*]:-(all chapters)}"
  seed
  workshop test --json "${chapter_args[@]}" >"$out/test.json" 2>"$out/test.err"
  echo $? >"$out/test.rc"
  t2=$(t)
  step "workshop test: exit $(cat "$out/test.rc") in $(dt "$t1" "$t2") s; workshop clean"
  workshop clean --json >"$out/clean.json" 2>"$out/clean.err"
  echo $? >"$out/clean.rc"
else
  echo 0 >"$out/test.rc"
  echo 0 >"$out/clean.rc"
  t2=$(t)
fi
t3=$(t)
if stage aswritten; then
  step "workshop test --as-written --json ${chapter_args[*]:-(all chapters)}"
  seed
  workshop test --as-written --jobs "$jobs" --json "${chapter_args[@]}" >"$out/aswritten.json" 2>"$out/aswritten.err"
  echo $? >"$out/aswritten.rc"
  step "workshop test --as-written: exit $(cat "$out/aswritten.rc") in $(dt "$t3" "$(t)") s; workshop clean"
  workshop clean --json >"$out/aswritten-clean.json" 2>"$out/aswritten-clean.err"
  echo $? >"$out/aswritten-clean.rc"
else
  echo '{"chapters":[]}' >"$out/aswritten.json"
  echo 0 >"$out/aswritten-clean.rc"
fi

# Facts that chapter 02 quotes: mount's version, and what it prints for a lowerdir it cannot resolve.
{
  mount --version | head -1
  f=$(mktemp -d /tmp/ws-vm-facts-XXXXXX)
  mkdir -p "$f/u" "$f/w" "$f/m"
  (cd / && mount -t overlay -o "lowerdir=rootfs,upperdir=$f/u,workdir=$f/w" none "$f/m" 2>&1 | sed "s|$f|/tmp/…|")
  dmesg 2>/dev/null | grep -a "failed to resolve" | tail -1 | sed 's/^\[[^]]*\] *//'
  rm -rf -- "$f"
} >"$out/facts.txt" 2>&1
sed 's/^/ws-vm-test: fact: /' "$out/facts.txt" >&2
t3b=$(t)

step "looking for residue"
{
  losetup -n -l -O NAME,BACK-FILE
  dmsetup ls 2>/dev/null | grep -v '^No devices found' | sed 's/^/dm /'
  lvs --noheadings -o vg_name,lv_name 2>/dev/null | sed 's/^ */lv /'
  pvs --noheadings -o pv_name 2>/dev/null | sed 's/^ */pv /'
  ip netns list 2>/dev/null | sed 's/^/netns /'
  ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^ws/ {print "link " $2}'
  find /sys/fs/cgroup -mindepth 1 -type d -name 'ws*' 2>/dev/null | sed 's/^/cgroup /'
  findmnt -rn -o TARGET | grep -E "^($home|/tmp/ws)" | sed 's/^/mount /'
  find /tmp /var/tmp -mindepth 1 -maxdepth 1 -name 'ws*' 2>/dev/null | sed 's/^/tmp /'
} >"$out/residue.txt" 2>&1
t4=$(t)
printf 'doctor_s=%s\ntest_s=%s\nclean_s=%s\naswritten_s=%s\nresidue_s=%s\n' "$(dt "$t0" "$t1")" "$(dt "$t1" "$t2")" "$(dt "$t2" "$t3")" "$(dt "$t3" "$t3b")" "$(dt "$t3b" "$t4")" >"$out/guest-timings"

rc=0
[[ $(cat "$out/trust.rc") == 0 ]] || { step "guest-trust.sh failed:"; grep '^FAIL' "$out/trust.txt" | sed 's/^/ws-vm-test:   /' >&2; rc=1; }
[[ $(cat "$out/test.rc") == 0 ]] || { step "workshop test failed (exit $(cat "$out/test.rc"))"; rc=1; }
# The guest is the learner's machine: every chapter must run there. A skip (lvm without
# device-mapper, say) is a pass for `workshop test` but a failure of this harness.
if [[ -f $out/test.json ]] && grep -q '"status": "skipped"' "$out/test.json"; then
  step "chapters were skipped in the guest: $(grep -B1 '"status": "skipped"' "$out/test.json" | grep -o '"id": "[^"]*"' | tr '\n' ' ')"
  rc=1
fi
[[ $(cat "$out/clean.rc") == 0 ]] || { step "workshop clean left residue (exit $(cat "$out/clean.rc"))"; rc=1; }
[[ $(cat "$out/aswritten-clean.rc") == 0 ]] || { step "workshop clean after --as-written left residue (exit $(cat "$out/aswritten-clean.rc"))"; rc=1; }
# The text is proven here, on the learner's Debian 13: a chapter that is not pending must pass.
failed_aw=$(node_bin=/opt/workshop/node_modules/.bin/node; "$node_bin" -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  // the guest has every requirement: a chapter skipped as written did not prove its text either
  console.log(r.chapters.filter((c) => c.status !== "pass").map((c) => c.id).join(" "));
' "$out/aswritten.json" 2>/dev/null || echo "no-aswritten-report")
for c in $failed_aw; do
  if [[ " $ASWRITTEN_PENDING " == *" $c "* ]]; then step "as written: $c fails (pending, see aswritten.json)"
  else step "as written: $c FAILS"; rc=1; fi
done
if [[ -s $out/residue.txt ]]; then
  step "residue after clean:"
  sed 's/^/ws-vm-test:   /' "$out/residue.txt" >&2
  rc=1
fi
step "done: exit $rc"
exit "$rc"

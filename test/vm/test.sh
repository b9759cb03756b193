#!/usr/bin/env bash
# `npm run test:vm`: the whole curriculum on a real Debian 13 kernel, in a qemu (TCG) guest.
#   1. build-image.sh: the cached guest (debootstrap + Debian's kernel + the project's own
#      vagrant/provision.sh run in it), rebuilt only where its inputs changed;
#   2. run.sh with guest-test.sh: in the guest, `workshop test --json` over every chapter, then
#      `workshop clean`, then `workshop test --as-written` (the chapters' own text) and clean again,
#      then an independent residue check;
#   3. here: the JSON report, a summary per chapter, and the timings.
# Exit 0 only if every chapter passed or was skipped for a stated reason, clean left nothing, and
# no residue was found; 3 if qemu or debootstrap is missing; otherwise the runner's code.
# Environment: WORKSHOP_VM_ARCH (amd64 or arm64: `npm run test:vm:arm64` builds and boots an arm64
# guest on this x86 machine), WORKSHOP_VM_CACHE, WORKSHOP_VM_TIMEOUT (s, default 3600, 9000 for arm64: the self-test took 1391 s
# under TCG and --as-written follows it), WORKSHOP_VM_RESULTS (a
# folder to keep the guest's results in; by default they are shown, then removed),
# WORKSHOP_VM_CHAPTERS (chapter ids, space-separated: only these), WORKSHOP_VM_STAGES (of "trust
# selftest aswritten", the default, only these), WORKSHOP_VM_MODPROBE (kernel
# modules to load in the guest before the test; by default none, as on a freshly booted box).
set -euo pipefail

here=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd -- "$here/../.." && pwd)

die() { printf 'test:vm: error: %s\n' "$1" >&2; exit "${2:-1}"; }
now() { date +%s%N; }
secs() { local d=$(($2 - $1)); printf '%d.%01d' $((d / 1000000000)) $((d / 100000000 % 10)); }

[[ $EUID -eq 0 ]] || die "run me as root: sudo npm run test:vm" 3
case ${WORKSHOP_VM_ARCH:-} in
  arm64)
    for t in qemu-system-aarch64:qemu-system-arm qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support; do
      command -v "${t%%:*}" >/dev/null 2>&1 || die "${t%%:*} is missing: apt-get install ${t#*:} (or: sudo WORKSHOP_VM_TOOLS=1 WORKSHOP_VM_ARM64=1 bash vagrant/provision.sh)" 3
    done
    # Every instruction of the guest is translated on this x86 machine: a full run takes longer.
    export WORKSHOP_VM_TIMEOUT=${WORKSHOP_VM_TIMEOUT:-9000} ;;
  '' | amd64)
    command -v qemu-system-x86_64 >/dev/null 2>&1 ||
      die "qemu is not installed: apt-get install qemu-system-x86 (or: sudo WORKSHOP_VM_TOOLS=1 bash vagrant/provision.sh; CI gets it from provision.sh)" 3 ;;
  *) die "WORKSHOP_VM_ARCH must be amd64 or arm64, not $WORKSHOP_VM_ARCH" 2 ;;
esac
command -v debootstrap >/dev/null 2>&1 ||
  die "debootstrap is not installed: apt-get install debootstrap (or: sudo WORKSHOP_VM_TOOLS=1 bash vagrant/provision.sh; CI gets it from provision.sh)" 3

t0=$(now)
image=$(bash "$here/build-image.sh")
t1=$(now)

if [[ -n ${WORKSHOP_VM_RESULTS:-} ]]; then
  res=$WORKSHOP_VM_RESULTS
  rm -rf -- "$res"
  mkdir -p -- "$res"
  keep=1
else
  res=$(mktemp -d /tmp/ws-vm-results-XXXXXX)
  keep=
fi
cleanup() { [[ -n $keep ]] || rm -rf -- "$res"; }
trap cleanup EXIT

export WORKSHOP_VM_TIMEOUT=${WORKSHOP_VM_TIMEOUT:-3600}
set +e
# The image holds this checkout, guest-test.sh included; only the knobs travel on the command.
guest_cmd=$(printf 'WORKSHOP_VM_CHAPTERS=%q WORKSHOP_VM_STAGES=%q WORKSHOP_VM_MODPROBE=%q WORKSHOP_VM_ASWRITTEN_PENDING=%q exec bash /opt/workshop/test/vm/guest-test.sh' \
  "${WORKSHOP_VM_CHAPTERS:-}" "${WORKSHOP_VM_STAGES:-}" "${WORKSHOP_VM_MODPROBE:-}" "${WORKSHOP_VM_ASWRITTEN_PENDING-}")
bash "$here/run.sh" --image "$image" --out "$res" -c "$guest_cmd"
rc=$?
set -e
t2=$(now)

node=$REPO/node_modules/.bin/node
[[ -x $node ]] || node=node
if [[ -s $res/test.json ]]; then
  echo "---- workshop test --json (in the guest) ----"
  cat -- "$res/test.json"
  echo
  echo "---- summary ----"
  "$node" -e '
    const fs = require("node:fs");
    const dir = process.argv[1];
    const r = JSON.parse(fs.readFileSync(dir + "/test.json", "utf8"));
    for (const c of r.chapters) {
      const phases = c.steps.reduce((n, s) => n + Object.keys(s.phases).length, 0);
      const what = c.status === "skipped" ? `skipped: ${c.reason ?? ""}` :
        `${c.status}: ${c.steps.length} steps, ${phases} phases, ${(c.durationMs / 1000).toFixed(1)} s` +
        (c.status === "fail" && c.reason ? ` (${c.reason})` : "") +
        (c.residue.length ? `; residue: ${c.residue.join(", ")}` : "");
      console.log(`  ${c.id.padEnd(14)} ${what}`);
      for (const s of c.steps.filter((s) => s.status === "fail"))
        for (const [p, v] of Object.entries(s.phases))
          if (v.status === "fail") console.log(`      ${s.id}/${p}: ${(v.detail ?? "").slice(0, 400)}`);
    }
    console.log(`  total ${(r.durationMs / 1000).toFixed(1)} s in the guest`);
    try {
      const c = JSON.parse(fs.readFileSync(dir + "/clean.json", "utf8"));
      console.log(`  workshop clean: ${c.clean ? "clean" : "NOT clean"} (found ${c.before.length}, left ${c.after.length})`);
    } catch { console.log("  workshop clean: no JSON report"); }
  ' "$res" || true
else
  echo "test:vm: the guest wrote no test.json" >&2
  for f in test.err doctor.err; do
    [[ -s $res/$f ]] && { echo "---- $f ----" >&2; tail -n 30 -- "$res/$f" >&2; }
  done
fi
if [[ -s $res/aswritten.json ]]; then
  echo "---- workshop test --as-written (in the guest): the chapters' own text ----"
  "$node" -e '
    const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    for (const c of r.chapters) {
      const ok = c.steps.filter((s) => s.status === "pass").length;
      console.log(`  ${c.id.padEnd(14)} ${c.status === "skipped" ? `skipped: ${c.reason ?? ""}` : `${c.status}: ${ok}/${c.steps.length} steps on the first try, ${(c.durationMs / 1000).toFixed(1)} s`}` +
        (c.reason && c.status === "fail" ? ` (${c.reason})` : "") + (c.residue.length ? `; residue: ${c.residue.join(", ")}` : ""));
      for (const s of c.steps.filter((s) => s.status === "fail")) {
        for (const [p, v] of Object.entries(s.phases)) if (v.status === "fail") console.log(`      ${s.id}/${p}: ${(v.detail ?? "").slice(0, 400)}`);
        for (const k of s.failedChecks ?? []) console.log(`      ✘ ${k.check}: ${k.status === "fail" ? `expected ${k.expected}; actual ${k.actual}` : k.error ?? ""}`);
        for (const [t, lines] of Object.entries(s.transcript ?? {})) { console.log(`      ${t}:`); for (const l of lines.slice(-12)) console.log(`        | ${l}`); }
      }
    }
  ' "$res/aswritten.json" || true
fi
if [[ -f $res/trust.txt ]]; then
  echo "---- guest-trust.sh (in the guest): harmful homes, clean beside unrelated things ----"
  grep -v '^ok ' "$res/trust.txt" | sed 's/^/  /'
fi
[[ -f $res/facts.txt ]] && sed 's/^/  guest fact: /' "$res/facts.txt"
if [[ -f $res/residue.txt ]]; then
  if [[ -s $res/residue.txt ]]; then echo "  residue in the guest after clean:"; sed 's/^/    /' "$res/residue.txt"; else echo "  residue in the guest after clean: none"; fi
fi
[[ -f $res/env.txt ]] && sed 's/^/  guest /' "$res/env.txt"
echo "---- timings ----"
echo "  image (build or cache): $(secs "$t0" "$t1") s"
[[ -f $res/timings ]] && sed 's/^/  /' "$res/timings"
[[ -f $res/guest-timings ]] && sed 's/^/  guest /' "$res/guest-timings"
echo "  test:vm total: $(secs "$t0" "$t2") s"
[[ -n $keep ]] && echo "  results kept in $res"
exit "$rc"

#!/usr/bin/env bash
# `npm run test:labs`: the hosted labs below the class server, on real VMs under qemu (TCG here).
#   1. the labs image: the one builder (src/image/build-image.sh) in qcow2 with the guest agent laid
#      over it (src/labs/image.ts, labBuilderArgs), cached and keyed like test/vm's;
#   2. vitest's labs project (test/labs/): two VMs from one base, sessions, reports, re-attach,
#      keystroke echo, isolation from inside a guest, kill -9 of the host process, idle stop and
#      return, expiry. The figures go to test-results/labs-figures.json.
# One guest stage at a time on the machine: the qemu lock of test/vm is held for step 2.
# Environment: WORKSHOP_VM_CACHE (the builder's cache), WORKSHOP_LABS_IMAGE (an image folder to use
# instead of building one). `--print-image` only builds (or finds) the image and prints its folder.
set -euo pipefail

here=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd -- "$here/../.." && pwd)
CACHE=${WORKSHOP_VM_CACHE:-/var/cache/workshop-vm}
NODE=$REPO/node_modules/.bin/node

die() { printf 'test:labs: error: %s\n' "$1" >&2; exit "${2:-1}"; }
now() { date +%s%N; }
secs() { local d=$(($2 - $1)); printf '%d.%01d' $((d / 1000000000)) $((d / 100000000 % 10)); }

[[ $EUID -eq 0 ]] || die "run me as root: sudo npm run test:labs" 3
for t in qemu-system-x86_64 qemu-img debootstrap; do
  command -v "$t" >/dev/null 2>&1 || die "$t is not installed (sudo WORKSHOP_VM_TOOLS=1 bash vagrant/provision.sh installs it)" 3
done

t0=$(now)
if [[ -n ${WORKSHOP_LABS_IMAGE:-} ]]; then
  image=$WORKSHOP_LABS_IMAGE
else
  mapfile -t hook < <(cd "$REPO" && "$NODE" --no-warnings --input-type=module -e \
    "const m = await import('./src/labs/image.ts'); console.log(m.labBuilderArgs(process.cwd()).join('\n'))")
  ((${#hook[@]})) || die "src/labs/image.ts gave no builder arguments"
  image=$(bash "$REPO/src/image/build-image.sh" --cache "$CACHE" "${hook[@]}")
fi
[[ -f $image/image.json ]] || die "$image is no image folder (no image.json)"
t1=$(now)
if [[ ${1:-} == --print-image ]]; then
  printf '%s\n' "$image"
  exit 0
fi
echo "test:labs: image $image ($(secs "$t0" "$t1") s)"

mkdir -p -- "$CACHE"
exec 8>"$CACHE/qemu.lock"
if ! flock -n 8; then
  echo "test:labs: another guest stage holds $CACHE/qemu.lock: waiting"
  flock 8
fi
cd "$REPO"
export PATH=$REPO/node_modules/.bin:$PATH # the project's Node 24, also when run without npm
set +e
WORKSHOP_LABS_IMAGE=$image npx vitest run --project labs "$@"
rc=$?
set -e
t2=$(now)
echo "test:labs: image $(secs "$t0" "$t1") s, tests $(secs "$t1" "$t2") s, total $(secs "$t0" "$t2") s"
[[ -f test-results/labs-figures.json ]] && cat test-results/labs-figures.json
exit "$rc"

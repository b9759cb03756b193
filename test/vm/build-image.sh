#!/usr/bin/env bash
# Builds (or finds in the cache) the guest that test/vm/run.sh boots under qemu (TCG): the one image
# builder of the product (src/image/build-image.sh, docs/image-builder.md) in raw format, with the
# harness of guest/ laid over it (its unit runs the host's command, then powers off) and no login
# prompt on the consoles.
#
#   sudo bash test/vm/build-image.sh [builder options]      # prints the image folder on stdout
#
# Environment: WORKSHOP_VM_ARCH (amd64 or arm64; default this machine's), and the builder's own
# (WORKSHOP_VM_CACHE, WORKSHOP_VM_MIRROR, WORKSHOP_VM_SUITE, WORKSHOP_VM_DISK).
set -euo pipefail

here=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
arch=()
[[ -z ${WORKSHOP_VM_ARCH:-} ]] || arch=(--arch "$WORKSHOP_VM_ARCH")
# Not named ws*: the workshop's inventory takes ws* cgroups (a unit's cgroup has its name) for its own.
exec bash "$here/../../src/image/build-image.sh" "${arch[@]}" --format raw \
  --overlay "$here/guest" --enable workshop-vm.service \
  --mask getty@tty1.service --mask serial-getty@ttyS0.service --mask serial-getty@ttyAMA0.service "$@"

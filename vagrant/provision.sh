#!/usr/bin/env bash
# Idempotent set-up for workshop: the Vagrant VM (Debian 13), this machine and CI (Debian 12),
# and a debootstrap chroot (no running systemd is needed or touched).
#
#   sudo bash vagrant/provision.sh        # from anywhere; the repo is this script's parent folder
#
# Steps, each skipped when there is nothing to do:
#   1. apt-get install the tools the chapters use (apt-get update only when lists are stale or an
#      install fails), plus nodejs + npm only if there is no npm at all; and Debian's dynamically
#      linked busybox package kept in /var/cache/workshop/debs for the self-test's controls;
#   2. npm ci (system npm) when node_modules is missing or older than package-lock.json;
#   3. npm run build (the npm scripts run on the project's own Node 24, node_modules/.bin/node);
#   4. /usr/local/bin/workshop, a wrapper that execs that Node 24 on dist/cli.js.
# Environment: WORKSHOP_REPO overrides the repo folder; WORKSHOP_BIN the wrapper's path.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
REPO=${WORKSHOP_REPO:-$(dirname -- "$script_dir")}
REPO=$(cd -- "$REPO" && pwd)
BIN=${WORKSHOP_BIN:-/usr/local/bin/workshop}
NODE_MAJOR=24

PACKAGES=(
  btrfs-progs busybox-static bridge-utils iproute2 iptables lvm2 thin-provisioning-tools
  systemd-container util-linux attr iputils-ping conntrack hyperfine kmod file psmisc procps
  ruby # only for `ruby -c Vagrantfile` in the tests
  e2fsprogs # mkfs.ext4 and debugfs for the lvm chapter; a debootstrapped Debian 13 has none
  fdisk # chapter 04 accepts Container the Hard Way's partitioned store (fdisk on store.img); its test types it
  tmux # test/integration/state.test.ts draws each picture of `workshop state` in a real terminal
  time # bench/run reads each command's peak RSS with /usr/bin/time -f %M
)
# `npm run test:vm` boots a Debian 13 guest (test/vm/). CI runs it; a learner's VM does not need
# the 60 MB of qemu, so it comes only on CI or when asked for.
if [[ ${CI:-} == true || ${WORKSHOP_VM_TOOLS:-} == 1 ]]; then
  PACKAGES+=(qemu-system-x86 qemu-utils debootstrap)
fi
# `npm run test:vm:arm64` builds an arm64 guest on an x86 machine (qemu-user-static through
# binfmt_misc) and boots it with qemu-system-aarch64; `workshop lab image build --arch arm64` too.
if [[ ${WORKSHOP_VM_ARM64:-} == 1 ]]; then
  PACKAGES+=(qemu-system-arm qemu-user-static binfmt-support)
fi
# The set-up test runs `vagrant validate` on the Vagrantfile (ruby -c is its fallback). Debian's
# vagrant (2.3.4 on Debian 12) needs no provider for that; a learner's VM has no use for it.
if [[ ${CI:-} == true ]]; then
  PACKAGES+=(vagrant)
fi
# The classroom's PostgreSQL tests (test/classroom/) start a throwaway PostgreSQL 15 cluster and
# an nginx in front of two servers; a learner's VM needs neither, so they come on CI or when asked.
if [[ ${CI:-} == true || ${WORKSHOP_CLASSROOM_PG:-} == 1 ]]; then
  PACKAGES+=(postgresql nginx)
fi

# The classroom's browser test (test/classroom/dashboard.test.ts) drives Debian's chromium with
# playwright-core, which downloads no browser. A learner's VM does not need 300 MB of browser.
if [[ ${CI:-} == true || ${WORKSHOP_CLASSROOM_BROWSER:-} == 1 ]]; then
  PACKAGES+=(chromium fonts-dejavu-core)
fi

started=$(date +%s%N)
say() { printf '==> %s\n' "$*"; }
die() { printf 'provision: error: %s\n' "$*" >&2; exit 1; }
elapsed() { local now; now=$(date +%s%N); printf '%d.%02ds' $(((now - started) / 1000000000)) $(((now - started) / 10000000 % 100)); }

[[ $EUID -eq 0 ]] || die "run me as root: sudo bash $script_dir/provision.sh"
[[ -f $REPO/package.json && -f $REPO/package-lock.json ]] || die "$REPO has no package.json/package-lock.json (set WORKSHOP_REPO)"
say "repo: $REPO"

# ---- 1. apt ------------------------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive

installed() { [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]; }

# Lists are fresh if an apt-get update touched them within a day (it always writes to partial/).
lists_fresh() {
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || return 1
  [[ -n $(find /var/lib/apt/lists /var/lib/apt/lists/partial -maxdepth 0 -mmin -1440 2>/dev/null) ]]
}

wanted=("${PACKAGES[@]}")
if ! command -v npm >/dev/null 2>&1; then
  wanted+=(nodejs npm)
fi
missing=()
for p in "${wanted[@]}"; do
  installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  say "apt: all ${#wanted[@]} packages are installed"
else
  say "apt: installing ${missing[*]}"
  updated=0
  if ! lists_fresh; then
    say "apt: lists are missing or older than a day: apt-get update"
    apt-get update -qq
    updated=1
  fi
  apt_install() { apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
  if ! apt_install; then
    ((updated == 0)) || die "apt-get install failed"
    say "apt: install failed; retrying after apt-get update"
    apt-get update -qq
    apt_install
  fi
fi
command -v npm >/dev/null 2>&1 || die "npm is still missing after the apt step"

# Debian's dynamically linked busybox, as a package file only (it conflicts with busybox-static):
# `workshop test` builds real-image roots from it, which chapters 04 and 06 must accept
# (src/lessons/rootfs.ts, CONTROL_DEBS). 0.5 MB.
control_debs=/var/cache/workshop/debs
if compgen -G "$control_debs/busybox_*.deb" >/dev/null; then
  say "apt: Debian's busybox package is in $control_debs"
else
  say "apt: apt-get download busybox into $control_debs (for the self-test's controls)"
  mkdir -p "$control_debs"
  (cd "$control_debs" && apt-get download -qq -o APT::Sandbox::User=root busybox) ||
    { apt-get update -qq && (cd "$control_debs" && apt-get download -qq -o APT::Sandbox::User=root busybox); } ||
    die "apt-get download busybox failed"
fi

# ---- 2. npm ci ---------------------------------------------------------------------------------
cd -- "$REPO"
local_node=$REPO/node_modules/.bin/node

node_ok() {
  local v
  v=$("$local_node" --version 2>/dev/null) || return 1
  [[ $v == v$NODE_MAJOR.* ]]
}

if [[ ! -d node_modules || ! -f node_modules/.package-lock.json ]]; then
  reason="node_modules is missing"
elif [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  reason="package-lock.json is newer than node_modules"
elif ! node_ok; then
  reason="node_modules/.bin/node is not Node $NODE_MAJOR"
else
  reason=
fi
if [[ -n $reason ]]; then
  say "npm ci ($reason), with the system npm $(npm --version) on node $(node --version 2>/dev/null || echo '?')"
  npm ci --no-audit --no-fund
  if ! node_ok && [[ -f node_modules/node/installArchSpecificPackage.js ]]; then
    # The `node` package fetches its binary in a preinstall script, which npm skips when scripts
    # are disabled or not approved (npm 11 allowScripts): run that script by hand, on the system node.
    say "node_modules/.bin/node is not Node $NODE_MAJOR: running the node package's preinstall"
    (cd node_modules/node && node installArchSpecificPackage)
    mkdir -p node_modules/.bin && ln -sfn ../node/bin/node node_modules/.bin/node # npm linked nothing
  fi
else
  say "npm ci: node_modules is up to date"
fi
node_ok || die "node_modules/.bin/node does not run Node $NODE_MAJOR (were install scripts skipped? see node_modules/node/installArchSpecificPackage.js)"
say "node: $("$local_node" --version) at node_modules/.bin/node"

# ---- 3. build ----------------------------------------------------------------------------------
say "npm run build"
npm run --silent build
[[ -f dist/cli.js ]] || die "the build did not produce dist/cli.js"

# ---- 4. /usr/local/bin/workshop ----------------------------------------------------------------
sq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; } # shell single-quoting
wrapper=$(printf '#!/bin/sh\n# written by %s/vagrant/provision.sh\nexec %s %s "$@"\n' \
  "$REPO" "$(sq "$local_node")" "$(sq "$REPO/dist/cli.js")")
if [[ -x $BIN && "$(cat -- "$BIN")" == "$wrapper" ]]; then
  say "$BIN is up to date"
else
  mkdir -p -- "$(dirname -- "$BIN")"
  tmp=$(mktemp "$BIN.XXXXXX")
  trap 'rm -f -- "$tmp"' EXIT
  printf '%s\n' "$wrapper" >"$tmp"
  chmod 0755 "$tmp"
  mv -f -- "$tmp" "$BIN"
  trap - EXIT
  say "wrote $BIN"
fi

say "done in $(elapsed). Next: sudo workshop"

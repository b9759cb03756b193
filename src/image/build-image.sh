#!/usr/bin/env bash
# The one image builder: a Debian 13 disk with Debian's own kernel, workshop installed by its own
# vagrant/provision.sh, and a lesson pack, for qemu. test/vm boots it (raw, x86 or arm64) and
# `workshop lab image build` makes the hosted labs' base image with it (qcow2, one per pack).
# docs/image-builder.md describes the interface; run with --help for the options.
#
#   sudo bash src/image/build-image.sh [options]      # prints the image folder on stdout
#
# Options:
#   --arch amd64|arm64     the guest's architecture (default: this machine's). A foreign one is built
#                          through qemu-user-static and binfmt_misc.
#   --format raw|qcow2     the disk's format (default raw): disk.img (ext4, no partition table) or
#                          disk.qcow2 (the same file system, a base for copy-on-write overlays)
#   --lessons DIR          the lesson pack to put in the image as /opt/workshop/lessons
#                          (default: the repository's lessons/)
#   --cache DIR            the cache folder (default $WORKSHOP_VM_CACHE or /var/cache/workshop-vm)
#   --overlay DIR          copy this folder's tree onto the guest's / (root-owned; repeatable): the
#                          hook for guest-side files such as a harness or an agent
#   --enable UNIT          systemctl enable UNIT in the guest (repeatable; after the overlays)
#   --mask UNIT            systemctl mask UNIT in the guest (repeatable)
#   --disk-size SIZE       the disk's virtual size (default $WORKSHOP_VM_DISK or 8G; sparse)
#   --out FILE             also copy the disk to FILE, with FILE.vmlinuz, FILE.initrd.img and
#                          FILE.json beside it
#   --print-keys           print the base's and the image's cache keys (base KEY, image KEY) and
#                          exit: whether an image is current, without root and without building
#
# Two cached stages, so that a change to the code does not force a new debootstrap:
#   base   debootstrap trixie (minbase + systemd + udev) for the architecture, Debian's kernel
#          (installed by apt, so depmod and update-initramfs run), then the project copied to
#          /opt/workshop and its own `bash vagrant/provision.sh` run in a chroot: the apt packages,
#          npm ci (which brings the pinned Node for that architecture) and the build, exactly as
#          `vagrant up` would. Key: the architecture, suite and mirror, this recipe, provision.sh,
#          package.json and package-lock.json.
#   image  the current checkout synced into the base root (node_modules kept), the pack, the
#          overlays and units, provision.sh again (idempotent: it only rebuilds), then `mkfs.ext4 -d`
#          (no loop mount) into a sparse disk (then qemu-img convert for qcow2), and vmlinuz +
#          initrd.img copied out for qemu -kernel/-initrd, and image.json that describes it all.
#          Key: the base key, this recipe, the format and size, a hash of every file of the checkout
#          (git ls-files: tracked and untracked, not ignored), of the pack, of the overlays and the
#          unit lists.
# Each stage writes its `ok` marker last; a stage without a valid one is rebuilt from scratch.
# After the build nothing needs the network: the guest has no network configured at all.
#
# Environment: WORKSHOP_VM_CACHE, WORKSHOP_VM_MIRROR (default: the first Debian URI of apt's
# sources here), WORKSHOP_VM_SUITE (default trixie, the Vagrant box's release), WORKSHOP_VM_DISK.
# Exit: 0 built or found; 1 the build failed; 2 usage; 3 not root or a tool is missing.
set -euo pipefail

here=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd -- "$here/../.." && pwd)
NICE=(nice -n 10)

say() { printf '==> build-image: %s\n' "$*" >&2; }
die() { printf 'build-image: error: %s\n' "$1" >&2; exit "${2:-1}"; }
now() { date +%s%N; }
secs() { local d=$(($(now) - $1)); printf '%d.%01d' $((d / 1000000000)) $((d / 100000000 % 10)); }

case $(uname -m) in
  x86_64) HOST_ARCH=amd64 ;;
  aarch64 | arm64) HOST_ARCH=arm64 ;;
  *) HOST_ARCH=$(uname -m) ;;
esac
ARCH=$HOST_ARCH FORMAT=raw LESSONS='' OUT='' PRINT_KEYS=''
CACHE=${WORKSHOP_VM_CACHE:-/var/cache/workshop-vm}
DISK_SIZE=${WORKSHOP_VM_DISK:-8G}
SUITE=${WORKSHOP_VM_SUITE:-trixie}
OVERLAYS=() ENABLE=() MASK=()
while (($#)); do
  case $1 in
    --arch) ARCH=${2?--arch needs a value}; shift 2 ;;
    --format) FORMAT=${2?--format needs a value}; shift 2 ;;
    --lessons) LESSONS=${2?--lessons needs a folder}; shift 2 ;;
    --cache) CACHE=${2?--cache needs a folder}; shift 2 ;;
    --overlay) OVERLAYS+=("${2?--overlay needs a folder}"); shift 2 ;;
    --enable) ENABLE+=("${2?--enable needs a unit}"); shift 2 ;;
    --mask) MASK+=("${2?--mask needs a unit}"); shift 2 ;;
    --disk-size) DISK_SIZE=${2?--disk-size needs a size}; shift 2 ;;
    --out) OUT=${2?--out needs a file}; shift 2 ;;
    --print-keys) PRINT_KEYS=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" 2 ;;
  esac
done
case $ARCH in
  amd64) KERNEL_PKG=linux-image-amd64 QEMU_ARCH=x86_64 CONSOLE=ttyS0 QEMU_MACHINE=pc ;;
  arm64) KERNEL_PKG=linux-image-arm64 QEMU_ARCH=aarch64 CONSOLE=ttyAMA0 QEMU_MACHINE=virt ;;
  *) die "--arch must be amd64 or arm64, not $ARCH" 2 ;;
esac
[[ $FORMAT == raw || $FORMAT == qcow2 ]] || die "--format must be raw or qcow2, not $FORMAT" 2
[[ $DISK_SIZE =~ ^[0-9]+[KMGT]?$ ]] || die "--disk-size takes a size such as 8G, not $DISK_SIZE" 2
if [[ -n $LESSONS ]]; then
  [[ -d $LESSONS ]] || die "--lessons $LESSONS is not a folder" 2
  LESSONS=$(cd -- "$LESSONS" && pwd)
  # The repository's own lessons are part of the checkout already (and of its key).
  [[ $LESSONS != "$REPO/lessons" ]] || LESSONS=''
fi
for i in "${!OVERLAYS[@]}"; do
  [[ -d ${OVERLAYS[$i]} ]] || die "--overlay ${OVERLAYS[$i]} is not a folder" 2
  OVERLAYS[i]=$(cd -- "${OVERLAYS[$i]}" && pwd)
done
for u in "${ENABLE[@]}" "${MASK[@]}"; do
  [[ $u =~ ^[A-Za-z0-9@._:-]+$ ]] || die "not a unit name: $u" 2
done
if [[ -n $OUT ]]; then
  [[ -d $(dirname -- "$OUT") ]] || die "--out $OUT: its folder does not exist" 2
  [[ $(basename -- "$OUT") =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "--out $OUT: use a file name of letters, digits and . _ + -" 2
  OUT=$(cd -- "$(dirname -- "$OUT")" && pwd)/$(basename -- "$OUT")
fi

[[ -n $PRINT_KEYS || $EUID -eq 0 ]] || die "run me as root (debootstrap and chroot need it): sudo bash $0" 3
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: apt-get install $2" 3; }
# The tools the build needs (not for --print-keys).
check_tools() {
  need debootstrap debootstrap
  need mkfs.ext4 e2fsprogs
  need unshare util-linux
  need sha256sum coreutils
  need flock util-linux
  [[ $FORMAT == raw ]] || need qemu-img qemu-utils
  # mkfs.ext4 -d (populate from a folder, no loop mount) exists since e2fsprogs 1.43.
  local e2v
  e2v=$(mke2fs -V 2>&1 | sed -n 's/^mke2fs \([0-9.]*\).*/\1/p')
  [[ $(printf '%s\n1.43\n' "$e2v" | sort -V | head -1) == 1.43 ]] || die "e2fsprogs $e2v is too old for mkfs.ext4 -d (need 1.43 or later)" 3
  # A foreign architecture runs in the chroot through qemu-user-static, registered in binfmt_misc
  # with the F flag (the interpreter is opened at registration, so it need not be in the chroot).
  if [[ $ARCH != "$HOST_ARCH" ]] && ! foreign_ok; then
    [[ -f /proc/sys/fs/binfmt_misc/status ]] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
    command -v update-binfmts >/dev/null 2>&1 && update-binfmts --enable "qemu-$QEMU_ARCH" >/dev/null 2>&1 || true
    foreign_ok || die "cannot run $ARCH programs here: apt-get install qemu-user-static binfmt-support, and check /proc/sys/fs/binfmt_misc/qemu-$QEMU_ARCH (enabled, flags with F)" 3
  fi
}
foreign_ok() {
  local f=/proc/sys/fs/binfmt_misc/qemu-$QEMU_ARCH
  [[ -f $f ]] && grep -qx enabled "$f" && grep -q '^flags: .*F' "$f"
}
[[ -n $PRINT_KEYS ]] || check_tools

detect_mirror() {
  local u
  # deb822 sources first (Debian 12+), then one-line ones; skip the security archive.
  u=$(grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | grep -E '/debian/?$' | head -1 || true)
  [[ -n $u ]] || u=$(grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
    sed -E 's/\[[^]]*\]//' | awk '{print $2}' | grep -v security | grep -E '/debian/?$' | head -1 || true)
  printf '%s\n' "${u:-http://deb.debian.org/debian}"
}
MIRROR=${WORKSHOP_VM_MIRROR:-$(detect_mirror)}
MIRROR=${MIRROR%/}
SECURITY_MIRROR=${MIRROR%/debian}/debian-security


# ---- chroot with /proc, /sys, /dev, /run, /tmp -------------------------------------------------
# The mounts live in a private mount namespace with its own PID namespace: when the command ends
# (or is killed), the kernel drops them all, and every process the chroot started dies with it.
# The trap unmounts them in order on a normal exit too.
in_chroot() {
  local root=$1
  shift
  "${NICE[@]}" unshare --mount --pid --fork --kill-child --propagation private -- \
    bash -euo pipefail -c '
      root=$1; debs=$2; shift 2
      trap "umount -R \"\$root/var/cache/apt/archives\" \"\$root/tmp\" \"\$root/run\" \"\$root/dev\" \"\$root/sys\" \"\$root/proc\" 2>/dev/null || true" EXIT
      mount -t proc proc "$root/proc"
      mount -t sysfs sysfs "$root/sys"
      mount --rbind /dev "$root/dev"
      mount -t tmpfs -o mode=0755 tmpfs "$root/run"
      mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
      mkdir -p "$debs/partial" "$root/var/cache/apt/archives"
      mount --bind "$debs" "$root/var/cache/apt/archives"
      chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive "$@"
    ' in_chroot "$root" "$CACHE/debs" "${PASS_ENV[@]}" "$@"
}

# The chroot has the host's package access: its proxy settings, and the local CA certificates it
# trusts (a TLS-inspecting proxy in front of the npm registry, say). They are copied in for the
# build only and taken out again before the image is made.
PASS_ENV=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY npm_config_registry NPM_CONFIG_REGISTRY; do
  [[ -n ${!v:-} ]] && PASS_ENV+=("$v=${!v}")
done
host_cas=(/usr/local/share/ca-certificates/*.crt)
[[ -e ${host_cas[0]} ]] || host_cas=()
((${#host_cas[@]} == 0)) || PASS_ENV+=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
host_ca_in() {
  ((${#host_cas[@]})) || return 0
  mkdir -p "$1/usr/local/share/ca-certificates/ws-vm-host"
  cp -- "${host_cas[@]}" "$1/usr/local/share/ca-certificates/ws-vm-host/"
  in_chroot "$1" update-ca-certificates >/dev/null 2>&1
}
host_ca_out() {
  [[ -d $1/usr/local/share/ca-certificates/ws-vm-host ]] || return 0
  rm -rf -- "$1/usr/local/share/ca-certificates/ws-vm-host"
  in_chroot "$1" update-ca-certificates --fresh >/dev/null 2>&1
}

# The files of a folder, NUL-separated: in a git work tree the tracked and untracked-but-not-ignored
# ones, else every file but node_modules, dist and .git.
list_tree() {
  local dir=$1
  if git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$dir" ls-files -z -c -o --exclude-standard -- . | while IFS= read -r -d '' f; do
      [[ -e $dir/$f || -L $dir/$f ]] && printf '%s\0' "$f"
    done
  else
    (cd -- "$dir" && find . \( -path ./node_modules -o -path ./dist -o -path ./.git \) -prune -o \( -type f -o -type l \) -printf '%P\0')
  fi | sort -z
}

tree_hash() {
  (cd -- "$1" && list_tree "$1" | while IFS= read -r -d '' f; do
    if [[ -L $f ]]; then printf 'L %s %s\n' "$(readlink -- "$f")" "$f"
    else printf '%s %s %s\n' "$(stat -c %a -- "$f")" "$(sha256sum <"$f" | cut -c1-64)" "$f"; fi
  done) | sha256sum | cut -c1-16
}

# ---- stage 1: base ------------------------------------------------------------------------------
build_base() {
  local dir=$1 root=$1/root
  rm -rf -- "$dir"
  mkdir -p -- "$dir" "$CACHE/debs"
  # minbase + what the debian/trixie64 box has that the chapters rely on and provision.sh does
  # not install: systemd, udev, dbus, kmod, CA certificates, e2fsprogs (its root is ext4).
  say "debootstrap $SUITE $ARCH from $MIRROR (minbase + systemd + udev)"
  "${NICE[@]}" debootstrap --arch="$ARCH" --variant=minbase --cache-dir="$CACHE/debs" \
    --include=systemd,systemd-sysv,udev,dbus,kmod,ca-certificates,e2fsprogs \
    "$SUITE" "$root" "$MIRROR" >"$dir/debootstrap.log" 2>&1 ||
    { tail -n 30 -- "$dir/debootstrap.log" >&2; die "debootstrap failed (log: $dir/debootstrap.log)"; }

  # What the Vagrant box has: the release, its updates and its security archive.
  cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  # No service may start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  # A small initramfs that can mount the root: virtio disk + ext4 (and its checksum helper).
  mkdir -p "$root/etc/initramfs-tools/conf.d"
  printf 'MODULES=list\nCOMPRESS=zstd\n' >"$root/etc/initramfs-tools/conf.d/ws-vm.conf"
  printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic >>"$root/etc/initramfs-tools/modules"

  say "apt-get install $KERNEL_PKG initramfs-tools (in the chroot)"
  in_chroot "$root" apt-get update -qq >>"$dir/apt.log" 2>&1 ||
    { tail -n 30 -- "$dir/apt.log" >&2; die "apt-get update failed in the chroot (log: $dir/apt.log)"; }
  in_chroot "$root" apt-get install -y -qq --no-install-recommends "$KERNEL_PKG" initramfs-tools zstd >>"$dir/apt.log" 2>&1 ||
    { tail -n 30 -- "$dir/apt.log" >&2; die "installing the kernel failed (log: $dir/apt.log)"; }
  local kver
  kver=$(ls -- "$root/lib/modules" | sort -V | tail -1)
  [[ -n $kver && -s $root/lib/modules/$kver/modules.dep && -f $root/boot/vmlinuz-$kver && -f $root/boot/initrd.img-$kver ]] ||
    die "the kernel is not installed properly (modules.dep, vmlinuz or initrd.img missing under $root)"
  say "kernel $kver"

  say "copying the project to /opt/workshop and running its vagrant/provision.sh (in the chroot)"
  sync_tree "$root"
  host_ca_in "$root"
  in_chroot "$root" bash /opt/workshop/vagrant/provision.sh >"$dir/provision.log" 2>&1 ||
    { tail -n 40 -- "$dir/provision.log" >&2; die "vagrant/provision.sh failed on Debian $SUITE $ARCH (log: $dir/provision.log)"; }
  host_ca_out "$root"
  grep '^==>' "$dir/provision.log" | sed 's/^/    /' >&2 || true

  # Shrink: npm's cache and apt's lists of the chroot are not needed to run.
  rm -rf -- "$root/root/.npm" "$root/root/.cache"
  rm -f -- "$root/usr/sbin/policy-rc.d"
  printf '%s\n' "$BASE_KEY" >"$dir/ok"
}

# ---- stage 2: image -----------------------------------------------------------------------------
# Replaces /opt/workshop of the root with the current checkout (and lessons/ with the pack).
# node_modules stays (it belongs to package-lock.json, which is part of the base key); dist is
# rebuilt by provision.sh.
sync_tree() {
  local root=$1 dest=$1/opt/workshop
  mkdir -p -- "$dest"
  find "$dest" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name package.json ! -name package-lock.json -exec rm -rf -- {} +
  # package.json/package-lock.json keep their mtime in the base (provision.sh compares the lock's
  # mtime with node_modules): they are identical by the base key, so copy them only if absent.
  (cd -- "$REPO" && list_tree "$REPO" | grep -zvxE 'package(-lock)?\.json' | tar --null --no-recursion -cf - -T -) |
    tar -C "$dest" -xf - --no-same-owner
  for f in package.json package-lock.json; do
    [[ -f $dest/$f ]] || cp -p -- "$REPO/$f" "$dest/$f"
  done
  if [[ -n $LESSONS ]]; then
    rm -rf -- "$dest/lessons"
    mkdir -p -- "$dest/lessons"
    (cd -- "$LESSONS" && list_tree "$LESSONS" | tar --null --no-recursion -cf - -T -) | tar -C "$dest/lessons" -xf - --no-same-owner
  fi
  chown -R 0:0 -- "$dest"
}

# Units that would only slow a networkless guest down, or prompt on it, whoever boots it.
QUIET_UNITS=(apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
  man-db.timer dpkg-db-backup.timer systemd-firstboot.service systemd-networkd-wait-online.service
  systemd-timesyncd.service ldconfig.service systemd-hwdb-update.service systemd-journal-catalog-update.service)

build_layer() {
  local base=$1/root out=$2 tmp=$2.tmp
  rm -rf -- "$tmp" "$out"
  mkdir -p -- "$tmp"
  say "syncing the checkout${LESSONS:+ and the pack $LESSONS} into the base root"
  sync_tree "$base"

  printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' >"$base/etc/fstab"
  printf 'ws-vm\n' >"$base/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 ws-vm\n' >"$base/etc/hosts"
  # Every layer is made in the same base root: first undo what the previous one added.
  layer_reset "$base"
  local d u
  for d in "${OVERLAYS[@]}"; do
    say "overlay $d"
    (cd -- "$d" && find . -mindepth 1 \( -type f -o -type l \) -printf '%P\0' | sort -z) >>"$base/var/lib/ws-image-overlay.list"
    tar -C "$d" -cf - . | tar -C "$base" -xf - --no-same-owner --no-overwrite-dir
  done
  local sysd=$base/etc/systemd/system
  for u in "${QUIET_UNITS[@]}" "${MASK[@]}"; do
    ln -sfn /dev/null "$sysd/$u"
    printf '%s\0' "etc/systemd/system/$u" >>"$base/var/lib/ws-image-overlay.list"
  done

  say "running vagrant/provision.sh again (idempotent: it only rebuilds)"
  printf '#!/bin/sh\nexit 101\n' >"$base/usr/sbin/policy-rc.d"
  chmod 0755 "$base/usr/sbin/policy-rc.d"
  if ! in_chroot "$base" bash /opt/workshop/vagrant/provision.sh >"$tmp/provision.log" 2>&1; then
    rm -f -- "$base/usr/sbin/policy-rc.d"
    tail -n 40 -- "$tmp/provision.log" >&2
    die "vagrant/provision.sh failed in the image layer"
  fi
  rm -f -- "$base/usr/sbin/policy-rc.d"
  for u in "${ENABLE[@]}"; do
    in_chroot "$base" systemctl enable "$u" >>"$tmp/units.log" 2>&1 || { cat -- "$tmp/units.log" >&2; die "systemctl enable $u failed in the image"; }
  done
  # What the masked first-boot units would do on every boot of the snapshot: done once, here.
  in_chroot "$base" sh -c 'ldconfig && systemd-hwdb update && journalctl --update-catalog' >/dev/null 2>&1 || true

  local kver
  kver=$(ls -- "$base/lib/modules" | sort -V | tail -1)
  cp -- "$base/boot/vmlinuz-$kver" "$tmp/vmlinuz"
  cp -- "$base/boot/initrd.img-$kver" "$tmp/initrd.img"

  say "mkfs.ext4 -d (no loop mount): $DISK_SIZE sparse disk"
  truncate -s "$DISK_SIZE" "$tmp/disk.img"
  "${NICE[@]}" mkfs.ext4 -q -F -L ws-vm-root -E root_owner=0:0 -d "$base" "$tmp/disk.img" ||
    die "mkfs.ext4 -d failed"
  local disk=disk.img
  if [[ $FORMAT == qcow2 ]]; then
    say "qemu-img convert to qcow2"
    "${NICE[@]}" qemu-img convert -f raw -O qcow2 "$tmp/disk.img" "$tmp/disk.qcow2" || die "qemu-img convert failed"
    rm -f -- "$tmp/disk.img"
    disk=disk.qcow2
  fi
  write_manifest "$tmp" "$disk" "$kver"
  # The marker, last: checksums of the kernel, initrd and manifest, and the disk's size and mtime
  # (a checksum of the disk would take ~40 s on every run; qemu opens it read-only or as a backing file).
  (cd -- "$tmp" && {
    printf 'key %s\n' "$IMAGE_KEY"
    sha256sum vmlinuz initrd.img image.json
    printf 'disk %s %s\n' "$disk" "$(stat -c '%s %Y' -- "$disk")"
  }) >"$tmp/ok.tmp"
  mv -- "$tmp/ok.tmp" "$tmp/ok"
  mv -- "$tmp" "$out"
}

# The previous layer's overlay files and masks come out of the reused base root again, so that an
# image built without an overlay does not keep the files of one built with it.
layer_reset() {
  local list=$1/var/lib/ws-image-overlay.list f
  if [[ -f $list ]]; then
    while IFS= read -r -d '' f; do
      [[ -n $f && $f != *..* ]] && rm -f -- "${1:?}/$f"
    done <"$list"
  fi
  mkdir -p -- "$1/var/lib"
  : >"$list"
  # Units enabled by an earlier layer: their wants links point into /etc/systemd/system.
  find "$1/etc/systemd/system" -mindepth 2 -maxdepth 2 -type l -lname '/etc/systemd/system/*' -delete 2>/dev/null || true
}

# JSON string of a value without control characters (paths and keys here).
jstr() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}
jlist() {
  local first=1 v
  printf '['
  for v in "$@"; do
    ((first)) || printf ', '
    first=0
    jstr "$v"
  done
  printf ']'
}

# image.json: what a consumer needs to boot the image (docs/image-builder.md).
write_manifest() {
  local dir=$1 disk=$2 kver=$3 version
  version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$REPO/package.json" | head -1)
  {
    printf '{\n'
    printf '  "format": 1,\n'
    printf '  "key": %s,\n' "$(jstr "$IMAGE_KEY")"
    printf '  "baseKey": %s,\n' "$(jstr "$BASE_KEY")"
    printf '  "arch": %s,\n' "$(jstr "$ARCH")"
    printf '  "suite": %s,\n' "$(jstr "$SUITE")"
    printf '  "disk": %s,\n' "$(jstr "$disk")"
    printf '  "diskFormat": %s,\n' "$(jstr "$FORMAT")"
    printf '  "diskSize": %s,\n' "$(jstr "$DISK_SIZE")"
    printf '  "kernel": "vmlinuz",\n'
    printf '  "initrd": "initrd.img",\n'
    printf '  "kernelVersion": %s,\n' "$(jstr "$kver")"
    printf '  "cmdline": %s,\n' "$(jstr "console=$CONSOLE root=/dev/vda rw rootfstype=ext4 net.ifnames=0")"
    printf '  "qemu": { "binary": %s, "machine": %s, "cpu": "max" },\n' "$(jstr "qemu-system-$QEMU_ARCH")" "$(jstr "$QEMU_MACHINE")"
    printf '  "lessons": %s,\n' "$(jstr "${LESSONS:-$REPO/lessons}")"
    printf '  "guestLessons": "/opt/workshop/lessons",\n'
    printf '  "workshopVersion": %s,\n' "$(jstr "$version")"
    printf '  "overlays": %s,\n' "$(jlist "${OVERLAYS[@]}")"
    printf '  "enabled": %s,\n' "$(jlist "${ENABLE[@]}")"
    printf '  "masked": %s\n' "$(jlist "${MASK[@]}")"
    printf '}\n'
  } >"$dir/image.json"
}

# A stage's folder is valid when its marker is there and matches what it describes.
base_ok() {
  [[ -f $1/ok && $(cat -- "$1/ok") == "$BASE_KEY" && -x $1/root/usr/local/bin/workshop && -x $1/root/opt/workshop/node_modules/.bin/node ]] &&
    compgen -G "$1/root/lib/modules/*/modules.dep" >/dev/null && compgen -G "$1/root/boot/vmlinuz-*" >/dev/null
}
image_ok() {
  local d=$1 disk
  [[ -f $d/ok && $(head -1 -- "$d/ok") == "key $IMAGE_KEY" ]] || return 1
  (cd -- "$d" && grep -E ' (vmlinuz|initrd\.img|image\.json)$' ok | sha256sum --quiet --strict -c -) >/dev/null 2>&1 || return 1
  disk=$(sed -n 's/^disk \([^ ]*\) .*/\1/p' "$d/ok")
  [[ -n $disk && -f $d/$disk && $(grep '^disk ' "$d/ok") == "disk $disk $(stat -c '%s %Y' -- "$d/$disk")" ]] || return 1
  # The file system itself must be consistent (a read-only check of its metadata: well under 1 s).
  if [[ $disk == *.qcow2 ]]; then qemu-img check -q "$d/$disk" >/dev/null 2>&1; else e2fsck -fn "$d/$disk" >/dev/null 2>&1; fi
}

# ---- keys ---------------------------------------------------------------------------------------
t0=$(now)
hash_of() { sha256sum | cut -c1-16; }
BASE_KEY=$({
  printf 'arch=%s suite=%s mirror=%s kernel=%s\n' "$ARCH" "$SUITE" "$MIRROR" "$KERNEL_PKG"
  declare -f build_base in_chroot
  cat -- "$REPO/vagrant/provision.sh" "$REPO/package.json" "$REPO/package-lock.json"
} | hash_of)
IMAGE_KEY=$({
  printf 'base=%s disk=%s format=%s console=%s\n' "$BASE_KEY" "$DISK_SIZE" "$FORMAT" "$CONSOLE"
  declare -f build_layer sync_tree layer_reset write_manifest
  printf '%s\n' "${QUIET_UNITS[@]}"
  tree_hash "$REPO"
  [[ -z $LESSONS ]] || printf 'lessons %s\n' "$(tree_hash "$LESSONS")"
  for d in "${OVERLAYS[@]}"; do printf 'overlay %s\n' "$(tree_hash "$d")"; done
  printf 'enable %s\n' "${ENABLE[@]}"
  printf 'mask %s\n' "${MASK[@]}"
} | hash_of)
BASE_DIR=$CACHE/base-$ARCH-$BASE_KEY
IMAGE_DIR=$CACHE/image-$ARCH-$IMAGE_KEY
if [[ -n $PRINT_KEYS ]]; then
  printf 'base %s\nimage %s\n' "$BASE_KEY" "$IMAGE_KEY"
  exit 0
fi

mkdir -p -- "$CACHE"
exec 9>"$CACHE/build.lock"
if ! flock -n 9; then
  say "another build holds $CACHE/build.lock: waiting"
  flock 9
fi

copy_out() {
  [[ -n $OUT ]] || return 0
  local disk
  disk=$(sed -n 's/^disk \([^ ]*\) .*/\1/p' "$IMAGE_DIR/ok")
  say "copying the image to $OUT"
  cp --sparse=always -- "$IMAGE_DIR/$disk" "$OUT.tmp"
  cp -- "$IMAGE_DIR/vmlinuz" "$OUT.vmlinuz"
  cp -- "$IMAGE_DIR/initrd.img" "$OUT.initrd.img"
  # The copy's manifest names its own files.
  sed -e "s|\"disk\": \"$disk\"|\"disk\": $(jstr "$(basename -- "$OUT")")|" \
    -e "s|\"kernel\": \"vmlinuz\"|\"kernel\": $(jstr "$(basename -- "$OUT").vmlinuz")|" \
    -e "s|\"initrd\": \"initrd.img\"|\"initrd\": $(jstr "$(basename -- "$OUT").initrd.img")|" "$IMAGE_DIR/image.json" >"$OUT.json"
  mv -f -- "$OUT.tmp" "$OUT"
}

if image_ok "$IMAGE_DIR"; then
  touch -- "$IMAGE_DIR/used"
  say "cached image $IMAGE_DIR ($(secs "$t0") s)"
  copy_out
  printf '%s\n' "$IMAGE_DIR"
  exit 0
fi
[[ -d $IMAGE_DIR ]] && say "image $IMAGE_DIR is incomplete or corrupt: rebuilding it"

if base_ok "$BASE_DIR"; then
  say "cached base $BASE_DIR"
else
  [[ -d $BASE_DIR ]] && say "base $BASE_DIR is incomplete or corrupt: rebuilding it"
  tb=$(now)
  build_base "$BASE_DIR"
  say "base built in $(secs "$tb") s"
fi

tl=$(now)
build_layer "$BASE_DIR" "$IMAGE_DIR"
touch -- "$IMAGE_DIR/used"
say "image layer built in $(secs "$tl") s"

# Keep, per architecture, the current image and the two used last (other checkouts, packs and
# formats share the cache), and the bases those need; older ones are only disk space.
keep=("$IMAGE_DIR" "$BASE_DIR")
for a in amd64 arm64; do
  mapfile -t recent < <(ls -1t -- "$CACHE"/image-"$a"-*/used 2>/dev/null | head -3 | xargs -r -n1 dirname)
  for d in "${recent[@]}"; do
    keep+=("$d")
    k=$(sed -n 's/^  "baseKey": "\(.*\)",$/\1/p' "$d/image.json" 2>/dev/null || true)
    [[ -z $k ]] || keep+=("$CACHE/base-$a-$k")
  done
done
for d in "$CACHE"/base-* "$CACHE"/image-*; do
  [[ -e $d ]] || continue
  [[ " ${keep[*]} " == *" $d "* ]] && continue
  say "removing the old $d"
  rm -rf -- "$d"
done
copy_out
say "image ready in $(secs "$t0") s: $IMAGE_DIR"
printf '%s\n' "$IMAGE_DIR"

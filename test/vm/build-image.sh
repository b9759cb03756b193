#!/usr/bin/env bash
# Builds (or finds in the cache) the Debian 13 guest that test/vm/run.sh boots under qemu (TCG).
#
#   sudo bash test/vm/build-image.sh          # prints the image folder on stdout
#
# Two cached stages, so that a change to the code does not force a new debootstrap:
#   base   debootstrap trixie + systemd + udev + Debian's own kernel (installed by apt, so depmod
#          and update-initramfs run), then the project copied to /opt/workshop and its own
#          `bash vagrant/provision.sh` run in a chroot: that installs the apt packages on Debian 13,
#          runs npm ci and the build, and writes /usr/local/bin/workshop, exactly as `vagrant up`
#          would. Key: this script's base recipe, the suite and mirror, provision.sh, package.json
#          and package-lock.json.
#   image  the current checkout synced into the base root (node_modules kept), the guest harness
#          files (test/vm/guest/) installed, provision.sh run again (idempotent: it only rebuilds),
#          then `mkfs.ext4 -d` (no loop mount) into a sparse disk.img, and vmlinuz + initrd.img
#          copied out for qemu -kernel/-initrd. Key: the base key, this script's layer recipe and
#          a hash of every file of the checkout (git ls-files: tracked and untracked, not ignored).
# Each stage writes its `ok` marker last (with the checksums of what it made); a stage without a
# valid marker (interrupted, deleted, corrupt) is rebuilt from scratch.
#
# Environment:
#   WORKSHOP_VM_CACHE   cache folder (default /var/cache/workshop-vm)
#   WORKSHOP_VM_MIRROR  Debian mirror (default: the first Debian URI of apt's sources here)
#   WORKSHOP_VM_SUITE   Debian suite of the guest (default trixie: the Vagrant box's release)
#   WORKSHOP_VM_DISK    size of the guest's disk, sparse (default 8G)
set -euo pipefail

here=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(cd -- "$here/../.." && pwd)
CACHE=${WORKSHOP_VM_CACHE:-/var/cache/workshop-vm}
SUITE=${WORKSHOP_VM_SUITE:-trixie}
DISK_SIZE=${WORKSHOP_VM_DISK:-8G}
NICE=(nice -n 10)

say() { printf '==> build-image: %s\n' "$*" >&2; }
die() { printf 'build-image: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s%N; }
secs() { local d=$(($(now) - $1)); printf '%d.%01d' $((d / 1000000000)) $((d / 100000000 % 10)); }

[[ $EUID -eq 0 ]] || die "run me as root (debootstrap and chroot need it): sudo bash $0"
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: apt-get install $2"; }
need debootstrap debootstrap
need mkfs.ext4 e2fsprogs
need unshare util-linux
need sha256sum coreutils
need flock util-linux
# mkfs.ext4 -d (populate from a folder, no loop mount) exists since e2fsprogs 1.43.
e2v=$(mke2fs -V 2>&1 | sed -n 's/^mke2fs \([0-9.]*\).*/\1/p')
[[ $(printf '%s\n1.43\n' "$e2v" | sort -V | head -1) == 1.43 ]] || die "e2fsprogs $e2v is too old for mkfs.ext4 -d (need 1.43 or later)"

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

mkdir -p -- "$CACHE"
exec 9>"$CACHE/build.lock"
if ! flock -n 9; then
  say "another build holds $CACHE/build.lock: waiting"
  flock 9
fi

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

# The files of the checkout, NUL-separated: tracked and untracked-but-not-ignored (git), or every
# file but node_modules, dist and .git when this is no git work tree.
list_tree() {
  if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$REPO" ls-files -z -c -o --exclude-standard | while IFS= read -r -d '' f; do
      [[ -e $REPO/$f || -L $REPO/$f ]] && printf '%s\0' "$f"
    done
  else
    (cd -- "$REPO" && find . \( -path ./node_modules -o -path ./dist -o -path ./.git \) -prune -o \( -type f -o -type l \) -printf '%P\0')
  fi | sort -z
}

tree_hash() {
  (cd -- "$REPO" && list_tree | while IFS= read -r -d '' f; do
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
  say "debootstrap $SUITE from $MIRROR (minbase + systemd + udev)"
  "${NICE[@]}" debootstrap --variant=minbase --cache-dir="$CACHE/debs" \
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

  say "apt-get install linux-image-amd64 initramfs-tools (in the chroot)"
  in_chroot "$root" apt-get update -qq >>"$dir/apt.log" 2>&1 ||
    { tail -n 30 -- "$dir/apt.log" >&2; die "apt-get update failed in the chroot (log: $dir/apt.log)"; }
  in_chroot "$root" apt-get install -y -qq --no-install-recommends linux-image-amd64 initramfs-tools zstd >>"$dir/apt.log" 2>&1 ||
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
    { tail -n 40 -- "$dir/provision.log" >&2; die "vagrant/provision.sh failed on Debian $SUITE (log: $dir/provision.log)"; }
  host_ca_out "$root"
  grep '^==>' "$dir/provision.log" | sed 's/^/    /' >&2 || true

  # Shrink: npm's cache and apt's lists of the chroot are not needed to run.
  rm -rf -- "$root/root/.npm" "$root/root/.cache"
  rm -f -- "$root/usr/sbin/policy-rc.d"
  printf '%s\n' "$BASE_KEY" >"$dir/ok"
}

# ---- stage 2: image -----------------------------------------------------------------------------
# Replaces /opt/workshop of the root with the current checkout. node_modules stays (it belongs to
# package-lock.json, which is part of the base key); dist is rebuilt by provision.sh.
sync_tree() {
  local root=$1 dest=$1/opt/workshop
  mkdir -p -- "$dest"
  find "$dest" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name package.json ! -name package-lock.json -exec rm -rf -- {} +
  # package.json/package-lock.json keep their mtime in the base (provision.sh compares the lock's
  # mtime with node_modules): they are identical by the base key, so copy them only if absent.
  (cd -- "$REPO" && list_tree | grep -zvxE 'package(-lock)?\.json' | tar --null --no-recursion -cf - -T -) |
    tar -C "$dest" -xf - --no-same-owner
  for f in package.json package-lock.json; do
    [[ -f $dest/$f ]] || cp -p -- "$REPO/$f" "$dest/$f"
  done
  chown -R 0:0 -- "$dest"
}

build_layer() {
  local base=$1/root out=$2 tmp=$2.tmp
  rm -rf -- "$tmp" "$out"
  mkdir -p -- "$tmp"
  say "syncing the checkout into the base root"
  sync_tree "$base"

  say "installing the guest harness (test/vm/guest/)"
  local g=$REPO/test/vm/guest
  # Not named ws*: the workshop's inventory takes ws* cgroups (a unit's cgroup has its name) for its own.
  install -m 0755 "$g/workshop-vm-run" "$base/usr/local/sbin/workshop-vm-run"
  install -m 0644 "$g/workshop-vm.service" "$base/etc/systemd/system/workshop-vm.service"
  mkdir -p "$base/etc/systemd/system/multi-user.target.wants"
  ln -sfn /etc/systemd/system/workshop-vm.service "$base/etc/systemd/system/multi-user.target.wants/workshop-vm.service"
  printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' >"$base/etc/fstab"
  printf 'ws-vm\n' >"$base/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 ws-vm\n' >"$base/etc/hosts"
  # Nothing that would only slow a headless, networkless, run-once guest down, or prompt on it.
  local u
  for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
    man-db.timer dpkg-db-backup.timer systemd-firstboot.service getty@tty1.service serial-getty@ttyS0.service \
    systemd-networkd-wait-online.service systemd-timesyncd.service \
    ldconfig.service systemd-hwdb-update.service systemd-journal-catalog-update.service; do
    ln -sfn /dev/null "$base/etc/systemd/system/$u"
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
  # What the masked first-boot units would do on every boot of the snapshot: done once, here.
  in_chroot "$base" sh -c 'ldconfig && systemd-hwdb update && journalctl --update-catalog' >/dev/null 2>&1 || true

  local kver
  kver=$(ls -- "$base/lib/modules" | sort -V | tail -1)
  cp -- "$base/boot/vmlinuz-$kver" "$tmp/vmlinuz"
  cp -- "$base/boot/initrd.img-$kver" "$tmp/initrd.img"
  printf '%s\n' "$kver" >"$tmp/kernel-version"

  say "mkfs.ext4 -d (no loop mount): $DISK_SIZE sparse disk.img"
  truncate -s "$DISK_SIZE" "$tmp/disk.img"
  "${NICE[@]}" mkfs.ext4 -q -F -L ws-vm-root -E root_owner=0:0 -d "$base" "$tmp/disk.img" ||
    die "mkfs.ext4 -d failed"
  # The marker, last: checksums of the kernel and initrd, and the disk's size and mtime (a
  # checksum of the 8 GiB sparse disk would take ~40 s on every run; qemu opens it read-only).
  (cd -- "$tmp" && {
    printf 'key %s\n' "$IMAGE_KEY"
    sha256sum vmlinuz initrd.img
    printf 'disk %s\n' "$(stat -c '%s %Y' disk.img)"
  }) >"$tmp/ok.tmp"
  mv -- "$tmp/ok.tmp" "$tmp/ok"
  mv -- "$tmp" "$out"
}

# A stage's folder is valid when its marker is there and matches what it describes.
base_ok() {
  [[ -f $1/ok && $(cat -- "$1/ok") == "$BASE_KEY" && -x $1/root/usr/local/bin/workshop && -x $1/root/opt/workshop/node_modules/.bin/node ]] &&
    compgen -G "$1/root/lib/modules/*/modules.dep" >/dev/null && compgen -G "$1/root/boot/vmlinuz-*" >/dev/null
}
image_ok() {
  local d=$1
  [[ -f $d/ok && -f $d/disk.img && $(head -1 -- "$d/ok") == "key $IMAGE_KEY" ]] || return 1
  (cd -- "$d" && grep -E ' (vmlinuz|initrd\.img)$' ok | sha256sum --quiet --strict -c -) >/dev/null 2>&1 || return 1
  [[ $(grep '^disk ' "$d/ok") == "disk $(stat -c '%s %Y' -- "$d/disk.img")" ]] || return 1
  # The file system itself must be consistent (a read-only check of its metadata: well under 1 s).
  e2fsck -fn "$d/disk.img" >/dev/null 2>&1
}

# ---- keys ---------------------------------------------------------------------------------------
t0=$(now)
hash_of() { sha256sum | cut -c1-16; }
BASE_KEY=$({
  printf 'suite=%s mirror=%s\n' "$SUITE" "$MIRROR"
  declare -f build_base in_chroot
  cat -- "$REPO/vagrant/provision.sh" "$REPO/package.json" "$REPO/package-lock.json"
} | hash_of)
IMAGE_KEY=$({
  printf 'base=%s disk=%s\n' "$BASE_KEY" "$DISK_SIZE"
  declare -f build_layer sync_tree
  tree_hash
} | hash_of)
BASE_DIR=$CACHE/base-$BASE_KEY
IMAGE_DIR=$CACHE/image-$IMAGE_KEY

if image_ok "$IMAGE_DIR"; then
  say "cached image $IMAGE_DIR ($(secs "$t0") s)"
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
say "image layer built in $(secs "$tl") s"

# Keep one base and one image: older ones are only disk space.
for d in "$CACHE"/base-* "$CACHE"/image-*; do
  [[ -e $d && $d != "$BASE_DIR" && $d != "$IMAGE_DIR" ]] || continue
  say "removing the old $d"
  rm -rf -- "$d"
done
say "image ready in $(secs "$t0") s: $IMAGE_DIR"
printf '%s\n' "$IMAGE_DIR"

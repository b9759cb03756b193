#!/usr/bin/env bash
# Runs INSIDE the guest (issue 19, item 1): what would harm a machine if workshop were wrong, tried
# where it harms nothing. guest-test.sh runs it first; alone:
#   sudo bash test/vm/run.sh -c 'bash /opt/workshop/test/vm/guest-trust.sh'
#  1. every command refuses a home that is `/`, a system folder, or leads to one (exit 2), and
#     nothing is written there;
#  2. `workshop clean` on a home that holds an unrelated bind mount, an unrelated chrooted process,
#     an unrelated process in namespaces of its own and an unrelated loop mount leaves all four
#     alone, and still removes the workshop's own residue in chapters/.
# Prints one line per check ("ok …" or "FAIL …") on stdout; exit 0 only when every check held.
set -u
export NO_COLOR=1
fails=0
checks=0
ok() { checks=$((checks + 1)); printf 'ok   %s\n' "$*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }
t0=$(date +%s%N)

# ---- 1. homes that are refused, for every command -------------------------------------------------
commands=$(workshop --json --help | sed -n 's/^ *"\([a-z]*\)",\{0,1\}$/\1/p')
[[ -n $commands ]] || bad "workshop --json --help listed no commands"
mounts_before=$(wc -l </proc/self/mountinfo)
ln -sfn / /tmp/ws-trust-root-link
unset WS_TRUST_UNSET
# refused LABEL EXPECT CMD...: exit 2, and the refusal names where the home came from. Each run
# is a Node start, slow under TCG, so two run at a time (the guest has 2 vCPUs), each into a file
# of its own, printed in order afterwards.
runs=$(mktemp -d /tmp/ws-trust-runs-XXXXXX)
n=0
refused() {
  local label=$1 expect=$2
  shift 2
  n=$((n + 1))
  (
    out=$(timeout 60 "$@" </dev/null 2>&1)
    rc=$?
    if [[ $rc == 2 && $out == *"as the workshop's home ($expect)"* ]]; then printf 'ok   %s: exit 2\n' "$label"
    else printf 'FAIL %s: exit %s: %s\n' "$label" "$rc" "$(head -c 300 <<<"$out" | tr '\n' ' ')"; fi
  ) >"$runs/$(printf '%03d' "$n")" &
  while (($(jobs -rp | wc -l) >= 2)); do wait -n; done
}
# every command once, and clean, the one that would empty the machine, with every spelling of a
# harmful home
for cmd in $commands; do
  refused "workshop --home / $cmd" --home workshop --home / --allow-host "$cmd"
done
refused "WORKSHOP_HOME=/ workshop clean" WORKSHOP_HOME env WORKSHOP_HOME=/ workshop --allow-host clean
for home in "${WS_TRUST_UNSET:-}/" /tmp/.. /tmp/ws-trust-root-link /usr /home; do
  refused "workshop --home '$home' clean" --home workshop --home "$home" --allow-host clean
done
wait
for f in "$runs"/*; do
  line=$(cat "$f")
  checks=$((checks + 1))
  [[ $line == ok* ]] || fails=$((fails + 1))
  printf '%s\n' "$line"
done
rm -rf "$runs"
t1=$(date +%s%N)
rm -f /tmp/ws-trust-root-link
for f in /state.json /lock /chapters /selftest /cache /usr/state.json /proc/lock; do
  [[ -e $f ]] && bad "$f was created"
done
mounts_after=$(wc -l </proc/self/mountinfo)
if [[ $mounts_before == "$mounts_after" ]]; then ok "no mount changed ($mounts_after)"; else bad "mounts: $mounts_before before, $mounts_after after"; fi

# ---- 2. clean on a home that holds things that are not the workshop's ----------------------------
H=/srv/ws-trust-home
SRC=/opt/ws-trust-src
rm -rf "$H" "$SRC"
mkdir -p "$H/data" "$H/jail/bin" "$H/chapters/ws-own/rootfs/bin" "$H/chapters/ws-own/mnt" "$SRC" /mnt/ws-trust-disk
echo precious >"$SRC/file"
cp /bin/busybox "$H/jail/bin/busybox"
cp /bin/busybox "$H/chapters/ws-own/rootfs/bin/busybox"
# unrelated: a bind mount in the home, a loop device on a file in it, mounted outside
mount --bind "$SRC" "$H/data"
truncate -s 16M "$H/disk.img"
mkfs.ext4 -q -F "$H/disk.img"
mount -o loop "$H/disk.img" /mnt/ws-trust-disk
# unrelated: a process chrooted in the home, and one in PID and UTS namespaces of its own whose cwd is in it
# (their output goes nowhere: a process that outlives the test must not hold the harness's pipe)
chroot "$H/jail" /bin/busybox sleep 600 </dev/null >/dev/null 2>&1 &
jailed=$!
(cd "$H/data" && exec unshare --pid --uts --fork --kill-child sleep 600 </dev/null >/dev/null 2>&1) &
isolated=$!
# the workshop's own: a mount and a container in a chapter folder (of no chapter of the lessons, so
# that no steps.ts has to load: discovery alone must find them)
mount -t tmpfs ws-trust-tmpfs "$H/chapters/ws-own/mnt"
chroot "$H/chapters/ws-own/rootfs" /bin/busybox sleep 600 </dev/null >/dev/null 2>&1 &
container=$!
sleep 1
mounted() { findmnt -rn -o TARGET | grep -qx "$1"; }
alive() { local s; s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [[ $s != Z ]]; }

workshop --home "$H" --json clean >/tmp/ws-trust-clean.json 2>/tmp/ws-trust-clean.err
rc=$?
if mounted "$H/data" && [[ $(cat "$H/data/file" 2>/dev/null) == precious ]]; then ok "the unrelated bind mount $H/data survived clean, with its file"
else bad "the unrelated bind mount $H/data did not survive clean"; fi
if mounted /mnt/ws-trust-disk && losetup -j "$H/disk.img" | grep -q .; then ok "the loop mount of $H/disk.img survived clean"
else bad "the loop mount of $H/disk.img did not survive clean"; fi
if alive "$jailed"; then ok "the process chrooted in $H/jail survived clean"; else bad "the process chrooted in $H/jail was killed"; fi
if alive "$isolated" && pgrep -P "$isolated" >/dev/null; then ok "the process in namespaces of its own, cwd $H/data, survived clean"
else bad "the process in namespaces of its own, cwd $H/data, was killed"; fi
if ! mounted "$H/chapters/ws-own/mnt" && ! alive "$container"; then ok "clean removed the workshop's own mount and container in chapters/ (exit $rc)"
else bad "clean left the workshop's own residue (exit $rc): $(head -c 400 /tmp/ws-trust-clean.err)"; fi
[[ -f $SRC/file ]] && ok "the bind mount's source is intact" || bad "the bind mount's source lost its file"

# the test's own things, in reverse order
pkill -KILL -P "$isolated" 2>/dev/null
kill -KILL "$jailed" "$isolated" "$container" 2>/dev/null
wait 2>/dev/null
umount /mnt/ws-trust-disk "$H/data" 2>/dev/null
umount "$H/chapters/ws-own/mnt" 2>/dev/null
rm -rf "$H" "$SRC" /tmp/ws-trust-clean.json /tmp/ws-trust-clean.err
rmdir /mnt/ws-trust-disk 2>/dev/null

t2=$(date +%s%N)
secs() { printf '%d.%01d' $((($2 - $1) / 1000000000)) $((($2 - $1) / 100000000 % 10)); }
printf 'trust: %d checks, %d failed, %s s (homes %s s, clean %s s)\n' "$checks" "$fails" "$(secs "$t0" "$t2")" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")"
[[ $fails == 0 ]]

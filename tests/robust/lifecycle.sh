#!/bin/bash
# lifecycle.sh DUMPFS MKDUMP - unmount and kill safety, privacy, read-only.
#
#   1. `fusermount3 -u` during heavy reads (then -z, as a user would when
#      the mount is busy): the mount goes, the readers end, the daemon exits
#      and leaves no zombie;
#   2. SIGTERM to the daemon during heavy reads: the same;
#   3. SIGKILL: the dead mount is cleaned by `fusermount3 -u`;
#   after each, a new mount of the same dump works and reads right;
#   4. the mount is private to its user: uid 65534 cannot read it, unless
#      -o allow_other;
#   5. nothing can be written through the mount, and the dump file is never
#      written (sha256 and mtime before and after everything above);
#   6. reads at and past the end return nothing, excluded pages read zeros.
# Exit 77 (skip) without /dev/fuse, fusermount3 or root (for step 4).
set -euo pipefail
dumpfs=$1 mkdump=$2
if [ ! -c /dev/fuse ] || ! command -v fusermount3 > /dev/null; then
	echo "SKIP: no /dev/fuse or fusermount3"
	exit 77
fi
if [ "$(id -u)" != 0 ] || ! command -v setpriv > /dev/null; then
	echo "SKIP: needs root and setpriv to check the mount from another uid"
	exit 77
fi

work=$(mktemp -d)
mnt=$work/mnt
mkdir "$mnt"
readers=()
cleanup() {
	for p in "${readers[@]}"; do kill "$p" 2> /dev/null || true; done
	mountpoint -q "$mnt" && { fusermount3 -u "$mnt" || fusermount3 -u -z "$mnt"; }
	rm -rf "$work"
}
trap cleanup EXIT
# A daemon that does not end within this many tenths of a second is stuck.
WAIT_TENTHS=300

fail() { echo "FAIL: $*"; exit 1; }

"$mkdump" --codec mixed --excluded --zero-pages --ram 0-4095,5000-8191 "$work/d" > /dev/null
dump=$work/d
sum_before=$(sha256sum "$dump" | cut -d' ' -f1)
mtime_before=$(stat -c %Y.%y "$dump")

# mount [OPTIONS...]: mount the dump (daemonized, as users do); sets $daemon.
mount_dump() {
	"$dumpfs" "$@" -o cache_size=1M "$dump" "$mnt"
	daemon=$(pgrep -n -f -- "$mnt\$") || fail "no daemon for $mnt"
}

check_content() {
	cmp "$mnt/mem" "$dump.mem" || fail "/mem differs from what the writer wrote"
}

# start_readers: 4 loops reading /mem and /vmcore.elf past the page cache.
start_readers() {
	readers=()
	for k in 1 2 3 4; do
		f=$mnt/mem
		[ $((k % 2)) = 0 ] && f=$mnt/vmcore.elf
		( while dd if="$f" of=/dev/null bs=1M iflag=direct status=none; do :; done ) \
			2> /dev/null &
		readers+=($!)
	done
	sleep 2
}

# wait_gone WHAT: the mount, the daemon and the readers are gone in time,
# and the daemon left no zombie.
wait_gone() {
	local what=$1 t
	for ((t = 0; t < WAIT_TENTHS; t++)); do
		mountpoint -q "$mnt" || break
		sleep 0.1
	done
	mountpoint -q "$mnt" && fail "$what: still mounted after $((WAIT_TENTHS / 10)) s"
	# The daemon is a child of init (it daemonized): it must exit and be
	# reaped; a zombie that stays means a parent that never waits.
	for ((t = 0; t < WAIT_TENTHS; t++)); do
		[ -d "/proc/$daemon" ] || break
		sleep 0.1
	done
	if [ -d "/proc/$daemon" ]; then
		state=$(sed -n 's/^State:\t\(.\).*/\1/p' "/proc/$daemon/status" 2> /dev/null || true)
		[ "$state" = Z ] && fail "$what: the daemon $daemon stays a zombie"
		fail "$what: the daemon $daemon did not exit (state $state)"
	fi
	for p in "${readers[@]}"; do
		for ((t = 0; t < WAIT_TENTHS; t++)); do
			kill -0 "$p" 2> /dev/null || break
			sleep 0.1
		done
		kill -0 "$p" 2> /dev/null && fail "$what: a reader is stuck"
		wait "$p" 2> /dev/null || true
	done
	readers=()
	grep -q " $mnt " /proc/mounts && fail "$what: $mnt still in /proc/mounts"
	echo "ok: $what: unmounted, daemon and readers gone"
}

# 1. fusermount3 -u during heavy reads
mount_dump
check_content
start_readers
if fusermount3 -u "$mnt" 2> "$work/umount.err"; then
	how="fusermount3 -u during reads"
else
	grep -q busy "$work/umount.err" || fail "fusermount3 -u: $(cat "$work/umount.err")"
	fusermount3 -u -z "$mnt"
	how="fusermount3 -u during reads (busy, then -u -z)"
fi
# The readers' loops end at the first failed read; a lazy unmount lets the
# open files live, so stop the loops (what a user does after -z).
for p in "${readers[@]}"; do kill "$p" 2> /dev/null || true; done
wait_gone "$how"

# 2. SIGTERM during heavy reads
mount_dump
check_content
start_readers
kill -TERM "$daemon"
wait_gone "SIGTERM during reads"

# 3. SIGKILL: the kernel keeps a dead mount until it is unmounted
mount_dump
check_content
kill -KILL "$daemon"
for ((t = 0; t < WAIT_TENTHS; t++)); do [ -d "/proc/$daemon" ] || break; sleep 0.1; done
if cat "$mnt/header" > /dev/null 2>&1; then fail "SIGKILL: the mount still answers"; fi
fusermount3 -u "$mnt" || fusermount3 -u -z "$mnt"
wait_gone "SIGKILL, then fusermount3 -u"

# A new mount of the same dump after all that
mount_dump
check_content
echo "ok: a new mount of the same dump reads right"

# 4. private unless allow_other; the path itself is open to everyone
chmod 755 "$work"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if as_nobody cat "$mnt/header" > /dev/null 2>&1; then
	fail "uid 65534 can read a mount made without allow_other"
fi
if as_nobody ls "$mnt" > /dev/null 2>&1; then
	fail "uid 65534 can list a mount made without allow_other"
fi
echo "ok: uid 65534 cannot read or list the mount"

# 5. read-only
for attempt in ": > '$mnt/mem'" "echo x >> '$mnt/header'" "touch '$mnt/new'" "mkdir '$mnt/dir'" \
	"chmod 666 '$mnt/mem'" "rm '$mnt/mem'" "mv '$mnt/mem' '$mnt/mem2'" \
	"truncate -s 0 '$mnt/mem'" "ln -s x '$mnt/link'"; do
	if bash -c "$attempt" 2> /dev/null; then fail "allowed: $attempt"; fi
done
echo "ok: writes, creates, renames, truncates, chmod, unlink all refused"

# 6. the ends of files and excluded pages
size=$(stat -c %s "$mnt/mem")
[ "$(dd if="$mnt/mem" bs=4096 skip=$((size / 4096)) count=4 status=none | wc -c)" = 0 ] ||
	fail "reading at the end of /mem returns data"
[ "$(tail -c +$((size - 99)) "$mnt/mem" | wc -c)" = 100 ] || fail "the last 100 bytes of /mem"
python3 - "$mnt/mem" "$dump.holes" <<'EOF' || fail "excluded pages or straddling reads"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
size = os.fstat(fd).st_size
# a read straddling the end returns only what is there
assert len(os.pread(fd, 8192, size - 100)) == 100
assert os.pread(fd, 4096, size) == b""
# excluded pages read as zeros, right after a read of a data page
holes = [[int(x) for x in l.split()] for l in open(sys.argv[2]) if l.strip()]
checked = 0
for a, last in holes[:50]:      # runs of pfns "first last" not in the dump
    if a > 0:
        os.pread(fd, 4096, (a - 1) * 4096)
    assert os.pread(fd, 4096, a * 4096) == bytes(4096), "pfn %d" % a
    checked += 1
print("ok: excluded pages read as zeros (%d holes checked); reads at and across the end "
      "are short" % checked)
EOF
fusermount3 -u "$mnt"
wait_gone "plain unmount"

# 4 again, with allow_other: now uid 65534 reads it
mount_dump -o allow_other
as_nobody cmp "$mnt/mem" "$dump.mem" || fail "uid 65534 cannot read an allow_other mount"
echo "ok: with -o allow_other uid 65534 reads /mem right"
fusermount3 -u "$mnt"
wait_gone "plain unmount"

[ "$(sha256sum "$dump" | cut -d' ' -f1)" = "$sum_before" ] || fail "the dump file changed"
[ "$(stat -c %Y.%y "$dump")" = "$mtime_before" ] || fail "the dump file's mtime changed"
echo "ok: the dump file is unchanged (sha256 $sum_before, mtime $mtime_before)"

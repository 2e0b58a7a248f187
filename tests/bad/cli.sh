#!/bin/bash
# cli.sh DUMPFS DUMP - the command line refuses what it cannot do: exit 2 for
# a usage error, 1 for a failure, a one-line message naming what was wrong,
# and nothing mounted.
set -uo pipefail
dumpfs=$1 dump=$2
work=$(mktemp -d)
trap 'mountpoint -q "$work/mnt" && fusermount3 -u "$work/mnt"; rm -rf "$work"' EXIT
mkdir "$work/mnt"
fails=0

# expect RC PATTERN ARGS...: exit code RC and a stderr line matching PATTERN
expect() {
	local rc=$1 pattern=$2 got
	shift 2
	"$dumpfs" "$@" > "$work/out" 2> "$work/err"
	got=$?
	if [ "$got" != "$rc" ] || ! grep -Eq -- "$pattern" "$work/err"; then
		echo "FAIL: dumpfs $*: exit $got (want $rc), stderr: $(head -c 300 "$work/err")"
		fails=$((fails + 1))
	fi
	if mountpoint -q "$work/mnt"; then
		echo "FAIL: dumpfs $*: mounted anyway"
		fusermount3 -u "$work/mnt"
		fails=$((fails + 1))
	fi
}

mnt=$work/mnt
expect 2 "^usage:"                               # no arguments
expect 2 "^usage:" "$dump"                        # no mountpoint
expect 2 "bad cache_size 'abc'" -o cache_size=abc "$dump" "$mnt"
expect 2 "bad cache_size '99999999999999G'" -o cache_size=99999999999999G "$dump" "$mnt"
expect 2 "cache_size 1000000G is more than this machine's memory" -o cache_size=1000000G "$dump" "$mnt"
expect 2 "bad threads '65'" -o threads=65 "$dump" "$mnt"
expect 2 "bad threads 'x'" -o threads=x "$dump" "$mnt"
expect 1 "$work/nothing: mountpoint: No such file" "$dump" "$work/nothing"
expect 1 "$work/out: mountpoint is not a directory" "$dump" "$work/out"
expect 1 "$work/missing" "$work/missing" "$mnt"
expect 1 "$work/missing" info "$work/missing"
expect 2 "^usage:" cat "$dump"                    # no path in the dump
expect 1 "/nope: no such file in the dump" cat "$dump" /nope
expect 2 "--offset needs a number" cat --offset x "$dump" /mem
expect 2 "--length needs a number" cat "$dump" /mem --length
expect 2 "^usage:" info --bogus "$dump"
expect 2 "bad part ''" -o part= "$dump" "$mnt"
expect 2 "bad threads 'x'" "$dump" "$mnt" -o threads=x       # options after the names
expect 1 "$work/missing" "$dump" "$mnt" -o part="$work/missing"
expect 1 "$work/nodir/x: No such file" cat --output "$work/nodir/x" "$dump" /mem
# raw images: the address and the ranges are checked before anything is mounted
expect 2 "$dump@0x1z: bad address '0x1z' after @" "$dump@0x1z" "$mnt"
expect 2 "$dump@: bad address '' after @" cat "$dump@" /mem
expect 1 "$work/a@b/dump: cannot open: No such file" info "$work/a@b/dump"      # an @ in a directory's name
expect 1 "$dump: ranges: range 1 \('0x1000'\) is not START-END" "$dump" "$mnt" -o ranges=0x1000
# the ranges end at the first item that is no range: it is an option again
expect 2 "bad cache_size 'abc'" -o ranges=0-0xfff,0x2000-0x2fff,cache_size=abc "$dump" "$mnt"
expect 1 "$dump: offset 8192: the file \([0-9]+ bytes\) is longer than its ranges" \
	-o ranges=0-0xfff,0x2000-0x2fff,ro "$dump" "$mnt"

if [ "$fails" -ne 0 ]; then
	echo "$fails command lines misbehaved"
	exit 1
fi
echo "ok: every bad command line refused"

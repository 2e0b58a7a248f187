#!/bin/bash
# replay.sh MKDUMP DUMPFS REPLAY-kdump REPLAY-flat ... REPLAY-http REPLAY-flatidx
#
# Replay every crash reproducer of tests/fuzz/regress/ and the seed corpus
# (made now by our writer) through the fuzz harnesses built without
# libFuzzer: what the fuzzers found stays fixed in every build.
set -euo pipefail
here=$(dirname "$0")
mkdump=$1 dumpfs=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$here/make-corpus.sh" "$mkdump" "$work" "$dumpfs"
for replay in "$@"; do
	h=${replay##*fuzz-replay-}
	inputs=("$work/$h")
	for f in "$here/regress/$h"-*; do
		[ -e "$f" ] && inputs+=("$f")
	done
	echo -n "$h: "
	# The harness's own messages (damaged pages) go to stderr, expected.
	"$replay" "${inputs[@]}" 2> "$work/$h.log" || { tail -n 40 "$work/$h.log"; exit 1; }
done

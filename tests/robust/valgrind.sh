#!/bin/bash
# valgrind.sh DUMPFS MKDUMP PROBE UNIT_TEST_DIR
#
# valgrind memcheck, no errors and no leaks of any kind (definite, indirect,
# possible, reachable), over:
#   - the unit tests;
#   - `dumpfs info`, `dumpfs cat /mem`, `dumpfs cat /vmcore.elf` and probe
#     (every file of the tree) on a dump of every format our writer makes,
#     damaged ones included (corrupt pages, incomplete, truncated), and raw
#     images placed by -o ranges= and by FILE@ADDRESS.
# Memcheck also reports a write() of uninitialised bytes, so the cat runs
# check that no uninitialised memory reaches a reader.
# Exit 77 (skip) without valgrind or when the binaries are built with a
# sanitizer (the two do not mix).
set -euo pipefail
dumpfs=$1 mkdump=$2 probe=$3 unit_dir=$4
mapfile -t units < <(find "$unit_dir" -maxdepth 1 -type f -executable -name 'test_*' | sort)
[ ${#units[@]} -gt 0 ] || { echo "FAIL: no unit tests in $unit_dir"; exit 1; }
if ! command -v valgrind > /dev/null; then
	echo "SKIP: valgrind is not installed"
	exit 77
fi
if ldd "$dumpfs" | grep -q 'lib[at]san'; then
	echo "SKIP: $dumpfs is built with a sanitizer"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=all
    --errors-for-leak-kinds=all --track-fds=no)
runs=0
# check NAME COMMAND...: run under memcheck, output to /dev/null.  Exit
# codes 1 (dumpfs cat over a damaged page) and 3 (probe: the dump does not
# open) are the program's answer, not memcheck's.
check() {
	local name=$1 rc=0
	shift
	"${vg[@]}" --log-file="$work/vg.log" "$@" > /dev/null 2> "$work/stderr" || rc=$?
	if [ $rc = 99 ] || grep -q . "$work/vg.log"; then
		cat "$work/vg.log"
		echo "FAIL: $name: memcheck errors or leaks"
		exit 1
	fi
	if [ $rc != 0 ] && [ $rc != 1 ] && [ $rc != 3 ]; then
		tail -n 20 "$work/stderr"
		echo "FAIL: $name: exit $rc"
		exit 1
	fi
	runs=$((runs + 1))
}

for t in "${units[@]}"; do
	check "$(basename "$t")" "$t"
done

small=(--ram 0-383,512-767)
variants=(
	"--codec mixed --excluded --zero-pages --qemu-notes --eraseinfo"
	"--codec none --header-version 1 --no-vmcoreinfo"
	"--endian be --arch ppc64 --codec zlib"
	"--layout 32 --arch i386 --codec lzo"
	"--format diskdump --codec zstd"
	"--incomplete --excluded"
	"--corrupt-pages 3 --codec snappy"
	"--split 2 --excluded --zero-pages"
	"--flat --excluded --codec zstd"
	"--flat --format elf --excluded"
	"--format elf --excluded --qemu-notes"
	"--format elf --layout 32 --arch i386"
	"--format elf --endian be --arch ppc64"
	"--format elf --incomplete"
	"--format lime"
)
n=0
for v in "${variants[@]}"; do
	n=$((n + 1))
	# shellcheck disable=SC2086 # $v is a list of options
	"$mkdump" $v "${small[@]}" "$work/d$n" > /dev/null
	if [ -e "$work/d$n.1" ]; then files=("$work/d$n.1" "$work/d$n.2"); else files=("$work/d$n"); fi
	check "info [$v]" "$dumpfs" info "${files[@]}"
	check "cat /mem [$v]" "$dumpfs" cat "${files[@]}" /mem
	check "cat /vmcore.elf [$v]" "$dumpfs" cat "${files[@]}" /vmcore.elf
	check "probe [$v]" "$probe" "$work/d$n.mem" "${files[@]}"
	# the same dump cut in the middle of its page data
	cp "${files[0]}" "$work/cut"
	truncate -s $(($(stat -c %s "${files[0]}") * 3 / 4)) "$work/cut"
	cut_files=("$work/cut" "${files[@]:1}")
	check "probe, cut at 3/4 [$v]" "$probe" "$work/d$n.mem" "${cut_files[@]}"
done
# raw images, placed by -o ranges= (good and overlapping) and by FILE@ADDRESS
"$mkdump" --format raw "${small[@]}" "$work/raw" > /dev/null
ranges=$(sed -n 's/^raw_ranges=//p' "$work/raw.info")
check "info --ranges [raw]" "$dumpfs" info --ranges "$ranges" "$work/raw"
check "cat /mem --ranges [raw]" "$dumpfs" cat --ranges "$ranges" "$work/raw" /mem
check "probe --ranges [raw]" "$probe" --ranges "$ranges" "$work/raw.mem" "$work/raw"
check "info, overlapping ranges [raw]" "$dumpfs" info --ranges 0-0xfff,0x800-0x1fff "$work/raw"
check "cat /vmcore.elf [raw@0x1000000,raw@0]" "$dumpfs" cat "$work/raw@0x1000000,$work/raw@0" /vmcore.elf
echo "ok: $runs runs under valgrind memcheck, no errors, no leaks"

#!/bin/bash
# run.sh [HARNESS...] - build the libFuzzer harnesses with clang, replay the
# crash reproducers and the seed corpus, then fuzz each harness for a bounded
# time, one fuzzer process at a time.
#
#   FUZZ_SECONDS=30   fuzzing time per harness (0: replay only)
#   FUZZ_BUILD=build-fuzz   the build directory (clang, ASan+UBSan+fuzzer)
#   FUZZ_CORPUS=DIR   where the corpora live and grow (default $FUZZ_BUILD/corpus)
#   HARNESS           any of kdump flat elf split lime raw vmlinux xen http flatidx
#                     (default: all ten)
#
# A crash leaves libFuzzer's crash-* file in $FUZZ_BUILD/artifacts/ and
# fails the script; minimize it (fuzz_X -minimize_crash=1 FILE) and add it to
# tests/fuzz/regress/X-NAME, where `meson test --suite robust` replays it.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-30}
corpus=${FUZZ_CORPUS:-$build/corpus}
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(kdump flat elf split lime raw vmlinux xen http flatidx)

# The whole project built by clang with the sanitizers and libFuzzer's
# coverage instrumentation; tests/robust/meson.build adds the harnesses
# (fuzz_dump.c with libFuzzer's main) when the compiler is clang.
if [ ! -e "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link -Dc_link_args=-fsanitize=fuzzer-no-link
fi
targets=(tests/gen/mkdump dumpfs)
for h in "${harnesses[@]}"; do
	targets+=("tests/robust/fuzz_$h")
done
ninja -C "$build" "${targets[@]}"
for h in "${harnesses[@]}"; do
	ln -sf "tests/robust/fuzz_$h" "$build/fuzz_$h"
done

mkdir -p "$corpus" "$build/artifacts"
bash tests/fuzz/make-corpus.sh "$build/tests/gen/mkdump" "$corpus/seeds" "$build/dumpfs"

# A dictionary of the VMCOREINFO keys the core looks up (symbols, offsets
# and sizes for /dmesg and the page tables, PAGESIZE...), taken from the
# source so that it follows it: the seeds carry a short VMCOREINFO, and
# mutations that spell a key reach the code that trusts its value.
dict=$build/vmcoreinfo.dict
{
	grep -rohE --include='*.c' '"(SYMBOL|OFFSET|SIZE|NUMBER|LENGTH)\([^"]*\)"' core
	grep -rohE --include='*.c' 'vmcoreinfo_get\([^,]*, *"[^"]*"' core | grep -oE '"[^"]*"$'
} | sed -e 's/%s/printk_log/' -e 's/"$/="/' | sort -u > "$dict"

# Sanitizer findings abort; a leak is a finding too.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# A hostile dump may claim memory larger than any machine: -rss_limit_mb
# (2 GiB) and -malloc_limit_mb make an allocation sized by the file a
# finding, and -timeout one slow input.  -close_fd_mask=2: the core reports
# each damaged page on stderr (gigabytes over a run); libFuzzer keeps its
# own output and the sanitizers' reports on a copy of stderr.
limits=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=20 -max_len=65536 -close_fd_mask=2)
for h in "${harnesses[@]}"; do
	mkdir -p "$corpus/$h"
	# libFuzzer takes either corpus directories or files: the reproducers
	# go into a directory of their own.
	rm -rf "$build/regress/$h"
	mkdir -p "$build/regress/$h"
	for f in tests/fuzz/regress/"$h"-*; do
		[ -e "$f" ] && cp "$f" "$build/regress/$h/"
	done
	echo "== fuzz_$h: replay $(ls "$build/regress/$h" | wc -l) reproducers," \
		"$(ls "$corpus/seeds/$h" | wc -l) seeds, $(ls "$corpus/$h" | wc -l) corpus inputs"
	"$build/fuzz_$h" "${limits[@]}" -runs=0 -artifact_prefix="$build/artifacts/$h-" \
		"$corpus/$h" "$corpus/seeds/$h" "$build/regress/$h" 2>&1 | tail -n 3
	if [ "$seconds" -gt 0 ]; then
		echo "== fuzz_$h: fuzzing for $seconds s"
		"$build/fuzz_$h" "${limits[@]}" -max_total_time="$seconds" -print_final_stats=1 -dict="$dict" \
			-artifact_prefix="$build/artifacts/$h-" "$corpus/$h" "$corpus/seeds/$h" \
			2> "$build/fuzz_$h.log" || {
			tail -n 30 "$build/fuzz_$h.log"
			# Run the input again with stderr: the harness's own message
			# (a broken promise) and the sanitizer's report.
			for crash in "$build/artifacts/$h-"*; do
				[ -e "$crash" ] || continue
				"$build/fuzz_$h" "$crash" 2>&1 | grep -v '^dumpfs: ' | tail -n 40 || true
				echo "FAIL: fuzz_$h found a crash: $crash"
			done
			exit 1
		}
		grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' \
			"$build/fuzz_$h.log" || true
	fi
done

#!/bin/bash
# run-all.sh - the test command of the README and of CI: install, build, and
# run every test suite (valgrind memcheck included, in suite robust), then
# again under AddressSanitizer and UndefinedBehaviorSanitizer; then the
# concurrency test against a ThreadSanitizer build of the daemon, and the
# fuzz harnesses (replay of the reproducers and corpus, then FUZZ_SECONDS
# of fuzzing each, 30 by default).
#
# Two suites run once, where they tell most: 'tools' (crash, gdb,
# makedumpfile and libkdumpfile over the whole real corpus, two thirds of a
# pass) in the plain build, and 'matrix' (the corruption matrix) in the
# sanitizer build.  Each phase prints its time, to keep CI within its
# budget (docs/robustness.md).  Suite 'foreign-crash' (crash:ARCH under
# qemu-user-static on the foreign dumps, about 12 minutes where
# tests/interop/install-foreign.sh has been run) is left out: run it with
# meson test -C build foreign-crash.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
phase() { echo "run-all: $1 done at $((SECONDS - start)) s"; }
bash tests/deps.sh
phase deps

# The real-producer corpus (QEMU, makedumpfile, a kdump kernel; about 3
# minutes and 4 GB in images/real/) for `meson test --suite real`.
# DUMPFS_REAL=0 skips making it; the corpus test then reports SKIP.
if [ "${DUMPFS_REAL:-1}" != 0 ] && [ ! -s images/real/MANIFEST.tsv ]; then
	bash images/make-real-dumps.sh
fi
# QEMU process cores of the small guest (gcore and the kernel's) with
# dump-guest-memory of the same pause, and cores of a sleep: about 30 s and
# 1.5 GB in /var/cache/dumpfs/qcore-KEY/ (the guests over 4 GiB are made by
# `bash images/make-qemu-cores.sh`, outside CI).
if [ "${DUMPFS_REAL:-1}" != 0 ]; then
	GUESTS="small other" bash images/make-qemu-cores.sh
fi
phase corpus

meson setup build --reconfigure > /dev/null 2>&1 || meson setup build
ninja -C build
meson test -C build --print-errorlogs --num-processes 2 --no-suite matrix --no-suite foreign-crash
phase "plain build and tests"

# Sanitizers: the FUSE daemons these tests start write any report to
# $ASAN_LOG_DIR, which the mount tests check after each unmount.  The real
# dumps are read again here without crash and drgn (DUMPFS_REAL_TOOLS=0):
# the plain run compared their output, and each /vmcore.elf's headers,
# notes and the ends of its PT_LOADs are read instead (crash's and drgn's
# own work cost some 20 minutes here).
meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	--reconfigure > /dev/null 2>&1 ||
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 DUMPFS_REAL_TOOLS=0 \
	meson test -C build-asan --print-errorlogs --num-processes 2 \
	--timeout-multiplier 3 --no-suite tools
phase "sanitizer build and tests"

# ThreadSanitizer: the FUSE daemon serving 16 threads and 4 processes at
# once (its reports go to files the test checks), and eight threads that
# list /tasks of a fresh mount at once (task_list: a report aborts the daemon).
meson setup build-tsan -Db_sanitize=thread -Db_lundef=false \
	--reconfigure > /dev/null 2>&1 ||
	meson setup build-tsan -Db_sanitize=thread -Db_lundef=false
ninja -C build-tsan
TSAN_OPTIONS=halt_on_error=1 meson test -C build-tsan --print-errorlogs \
	--timeout-multiplier 3 concurrency concurrency_http task_list
phase "ThreadSanitizer concurrency"

# libFuzzer harnesses built by clang (build-fuzz): replay, then fuzz briefly.
FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash tests/fuzz/run.sh
phase fuzz

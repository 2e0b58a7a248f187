#!/bin/bash
# make-sample.sh - regenerate images/sample/, the one small real dump committed to git.
#
#   bash images/make-sample.sh          (root, Debian 12 x86_64; ~1 minute)
#
# 1. make-real-dumps.sh STEPS=sample (into $WORK, default images/sample-work/,
#    gitignored) boots Debian's kernel under QEMU TCG, -m 128M -smp 2,
#    -device vmcoreinfo, "nokaslr dfs.small=1" (no random data), pauses it,
#    dumps it with QMP dump-guest-memory (ELF, paging off), moves the ELF
#    program headers so makedumpfile can read the file (tools/phdr-first.py)
#    and runs   makedumpfile -c -d 31 sample.phdrfirst.elf sample.kdump
# 2. copies sample.kdump here and writes the reference facts
#    (tools/sample-facts.py: python3-libkdumpfile, cross-checked with an
#    independent kdump reader and the source ELF):
#       sample.info  sample.pages.tsv  sample.vmcoreinfo
# 3. writes sample.provenance (versions, exact commands, timings).
# The dump is not bit-for-bit reproducible (guest timing, timestamps), so
# regenerating changes sample.kdump and all the facts together.
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
WORK=${WORK:-$HERE/sample-work}
DEST=$HERE/sample
T0=${EPOCHREALTIME/./}

OUT=$WORK STEPS=sample SAMPLE_MEM=${SAMPLE_MEM:-128M} bash "$HERE/make-real-dumps.sh"

mkdir -p "$DEST"
rm -f "$DEST"/sample.*
cp "$WORK/sample/sample.kdump" "$DEST/sample.kdump"
chmod 644 "$DEST/sample.kdump"   # makedumpfile creates 0600
/usr/bin/python3 "$HERE/tools/sample-facts.py" "$DEST/sample.kdump" "$WORK/sample/sample.phdrfirst.elf" "$DEST" \
    | tee "$WORK/logs/sample-facts.log"
T1=${EPOCHREALTIME/./}
{
    echo "# how images/sample/sample.kdump was made (images/make-sample.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ))"
    cat "$WORK/logs/versions.txt"
    echo "guest_cmdline=$(cat "$WORK/logs/sample.qemu-cmdline" | sed "s,$WORK/,,g")"
    echo "qmp=$(grep -m1 dump-guest-memory "$WORK/logs/qmp.log" | sed "s,$WORK/,,g")"
    echo "fixup=python3 images/tools/phdr-first.py sample/sample.elf sample/sample.phdrfirst.elf"
    echo "makedumpfile=$(awk -F'\t' '$1=="sample/sample.kdump"{print $4}' "$WORK/MANIFEST.tsv")"
    echo "source_elf_bytes=$(stat -c %s "$WORK/sample/sample.elf")"
    sed 's/^/timing: /' "$WORK/logs/timings.tsv" | tail -n +2
    echo "timing: make-sample total $(( (T1 - T0) / 1000000 )) s"
} > "$DEST/sample.provenance"
ls -l "$DEST"
echo "sample: $(du -cb "$DEST"/* | tail -1 | cut -f1) bytes in $DEST"

#!/bin/bash
# deps.sh - install what dumpfs needs to build and test on Debian 12 (as root,
# or through sudo).  Installs nothing that is already there.
set -euo pipefail
pkgs=(build-essential meson ninja-build pkg-config
      libfuse3-dev fuse3 zlib1g-dev liblzo2-dev libsnappy-dev libzstd-dev
      libelf-dev libssl-dev libcurl4-openssl-dev libcmocka-dev libdeflate-dev libbpf-dev bpftool python3 elfutils binutils util-linux procps
      clang libclang-rt-14-dev valgrind     # the fuzzers and memcheck (tests/robust)
      nginx-light openssl curl)             # a real web server for remote dumps (tests/remote)
pkgs+=("$@")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# A mirror caught mid-sync fails an update for one index; the lists at hand
# may still hold every package, and the install below says if not.
$sudo apt-get update -q || echo "deps.sh: apt-get update failed; installing from the package lists at hand" >&2
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"

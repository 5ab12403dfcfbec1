#!/bin/bash
# Install (idempotently) the Debian packages Vireo needs to build and test.
# Usage: scripts/deps.sh [build|test]
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

build_pkgs=(meson ninja-build pkg-config gcc libc6-dev libfdt-dev libcmocka-dev libslirp-dev libglib2.0-dev
            libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libseccomp-dev python3)
test_pkgs=(gcc-riscv64-linux-gnu libc6-dev-riscv64-cross binutils-riscv64-linux-gnu opensbi
           qemu-system-misc e2fsprogs iproute2 procps device-tree-compiler tshark vde2 iputils-ping
           clang libclang-rt-14-dev strace libvdeplug-dev)

want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "scripts/deps.sh: need root to install: ${missing[*]}" >&2
    exit 1
fi
echo "installing: ${missing[*]}" >&2
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

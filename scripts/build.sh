#!/bin/bash
# Build everything on a fresh Debian 12 machine: packages, the VMM (build/),
# and the default guest (cached outside the tree, ~12 minutes the first
# time, seconds afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release >/dev/null
fi
ninja -C build
build/vireo guest build >/dev/null

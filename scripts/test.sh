#!/bin/bash
# Installs what is missing, builds, and runs the whole test suite.
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
build=${HOTPATH_BUILD:-build}
meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" "$@"

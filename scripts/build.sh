#!/bin/bash
# Configures (once) and builds hotpath in build/ (or $HOTPATH_BUILD).
set -eu
cd "$(dirname "$0")/.."
build=${HOTPATH_BUILD:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=debugoptimized -Dwerror=true >/dev/null
fi
ninja -C "$build" >/dev/null

#!/bin/bash
# Installs the Debian 12 packages hotpath needs to build and test, if missing.
# As root it runs apt-get; otherwise it prints the apt-get line and stops.
set -eu
pkgs="build-essential meson ninja-build pkg-config cmake libzydis-dev libelf-dev libdw-dev libbz2-dev check python3 python3-jsonschema perl gzip coreutils chromium luajit"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "hotpath needs these Debian packages:$missing" >&2
  echo "run as root:  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null

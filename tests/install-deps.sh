#!/bin/sh
# Installs the Debian packages given before "--" when any pkg-config module or
# command the build needs is missing, a package that ships neither (a
# libpurple plugin) is not installed, or a Python module is missing. Does
# nothing when everything is there.
# Usage: install-deps.sh PACKAGE... -- PKGCONFIG_MODULE... [-- COMMAND...
#        [-- INSTALLED_PACKAGE... [-- PYTHON3_MODULE...]]]
set -e
packages=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do packages="$packages $1"; shift; done
[ $# -gt 0 ] && shift
missing=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  pkg-config --exists "$1" 2>/dev/null || missing="$missing $1"
  shift
done
[ $# -gt 0 ] && shift
# Daemons such as ngircd live in sbin, which a user's PATH may lack.
PATH="$PATH:/usr/sbin:/sbin"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  command -v "$1" >/dev/null 2>&1 || missing="$missing $1"
  shift
done
[ $# -gt 0 ] && shift
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  [ "$(dpkg-query -W -f '${Status}' "$1" 2>/dev/null)" = "install ok installed" ] \
    || missing="$missing $1"
  shift
done
[ $# -gt 0 ] && shift
# Python modules (the benchmark's Python peer): Debian packages them as
# python3-* for its own /usr/bin/python3, which a pyenv or venv python3 first
# on PATH does not see.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
for module in "$@"; do
  "$python" -c "import $module" >/dev/null 2>&1 || missing="$missing python3:$module"
done
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
command -v cc >/dev/null 2>&1 || missing="$missing cc"
[ -z "$missing" ] && exit 0

echo "Installing build dependencies (missing:$missing):$packages"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a second make in parallel, unattended upgrades) holds the
# dpkg lock for a while: wait for it rather than fail.
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $packages

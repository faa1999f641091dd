#!/usr/bin/env bash
# setup-debian.sh: installs what custos needs to build and test on Debian 12.
# Run as root (or with sudo available).  Idempotent.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
	build-essential cmake pkg-config clang clang-format \
	libyaml-dev libpcre2-dev libsqlite3-dev libjansson-dev libssl-dev libsystemd-dev \
	sqlite3 python3 jq mawk gawk valgrind time >/dev/null
echo "setup-debian: build dependencies installed"

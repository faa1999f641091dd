#!/usr/bin/env bash
# setup-debian.sh: installs what custos needs to build and test on Debian 12.
# Run as root (or with sudo available).  Idempotent.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark: do not ask whether non-root users may capture (answer no)
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	$SUDO debconf-set-selections
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
	build-essential cmake pkg-config clang clang-format libfuzzer-14-dev libclang-rt-14-dev \
	libyaml-dev libpcre2-dev libsqlite3-dev libjansson-dev libssl-dev libsystemd-dev libpcap-dev zlib1g-dev \
	sqlite3 python3 jq mawk gawk valgrind time bc curl tcpdump tshark chromium \
	rsyslog rsyslog-openssl bsdutils tzdata >/dev/null
echo "setup-debian: build dependencies installed"

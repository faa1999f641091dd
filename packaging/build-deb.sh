#!/usr/bin/env bash
# build-deb.sh [BUILD_DIR]: builds the Debian package of custos,
# BUILD_DIR/custos_<version>_<arch>.deb (default BUILD_DIR: build-deb at the
# top of the source tree), with Debian's hardening flags (dpkg-buildflags,
# hardening=+all: fortify, stack protector, PIE, full RELRO, bind-now) and
# prints its path.  Dependencies come from dpkg-shlibdeps (CPack SHLIBDEPS).
# Needs: cmake, a C compiler, dpkg-dev, and the -dev packages of
# tools/setup-debian.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build-deb}
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON \
	-DCMAKE_C_FLAGS="$cflags" \
	-DCMAKE_EXE_LINKER_FLAGS="$ldflags" >/dev/null
# Only what the package holds (not the tests, fuzzers and benchmarks).
cmake --build "$build" -j2 --target custos custosd custos_docs >/dev/null
rm -f "$build"/custos_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
ls "$build"/custos_*.deb

#!/bin/sh
# make check: the whole suite on the debug build, the ASan+UBSan build and
# the stress tests under TSan; prints one closing "N passed, N failed" line.
set -u
BUILD=$1 ASAN=$2 TSAN=$3
rc=0
# liburcu-only suppressions for the TSan stress run (tests/tsan.supp).
TSAN_SUPP=$(cd "$(dirname "$0")/.." && pwd)/tests/tsan.supp
meson test -C "$BUILD" --suite unit --suite scenario --suite stress --suite install --print-errorlogs || rc=1
if [ ! -f "$ASAN/build.ninja" ]; then
	meson setup "$ASAN" -Ddebug_vm=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || rc=1
fi
ninja -C "$ASAN" >/dev/null && \
	meson test -C "$ASAN" --suite unit --suite scenario --print-errorlogs || rc=1
if [ ! -f "$TSAN/build.ninja" ]; then
	CC=clang meson setup "$TSAN" -Ddebug_vm=true -Db_sanitize=thread -Db_lundef=false -Dstress_seconds=3 >/dev/null || rc=1
fi
ninja -C "$TSAN" >/dev/null && \
	TSAN_OPTIONS="halt_on_error=1 suppressions=$TSAN_SUPP" meson test -C "$TSAN" --suite stress --print-errorlogs || rc=1
python3 scripts/test-summary.py "$BUILD" "$ASAN" "$TSAN" || rc=1
exit $rc

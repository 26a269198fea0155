#!/bin/sh
# make check: the whole suite on the debug build, the ASan+UBSan build,
# the stress tests under TSan and a short run of each libFuzzer target
# (clang; skipped, saying so, without it); prints one closing
# "N passed, N failed" line.
#
# stdout carries the test output and, last, that line (CI reads it);
# progress ("== ...") and failures go to stderr.  A build that cannot be
# configured or compiled is a loud failure with the tail of its log, and
# the summary then counts its suites as missing, i.e. failed.
set -u
BUILD=$1 ASAN=$2 TSAN=$3 FUZZ=${4:-build-fuzz}
SRC=$(cd "$(dirname "$0")/.." && pwd)
rc=0
# liburcu-only suppressions for the TSan stress run (tests/tsan.supp).
TSAN_SUPP=$SRC/tests/tsan.supp
LOGS=$BUILD/meson-logs
mkdir -p "$LOGS"

say() { echo "== $*" >&2; }

# run LOG CMD...: run CMD with its output in LOG; on failure, say so with
# the tail of LOG and return 1.
run() {
	log=$1
	shift
	if "$@" >"$log" 2>&1; then
		return 0
	fi
	echo "pinmm: check: FAILED: $*" >&2
	echo "pinmm: check: its errors, from $log:" >&2
	grep -E 'error|FAILED|cannot find|undefined reference' "$log" | tail -n 15 | sed 's/^/    /' >&2
	echo "pinmm: check: the last 20 lines of $log:" >&2
	tail -n 20 "$log" | sed 's/^/    /' >&2
	rc=1
	return 1
}

# A stale test log must not stand in for a suite that did not run.
rm -f "$BUILD/meson-logs/testlog.json" "$ASAN/meson-logs/testlog.json" \
      "$TSAN/meson-logs/testlog.json" "$FUZZ/meson-logs/testlog.json"

say "[1/4] debug build ($BUILD): unit, scenario, stress, install, host, explore suites ..."
meson test -C "$BUILD" --suite unit --suite scenario --suite stress --suite install --suite host --suite explore \
	--print-errorlogs || rc=1

say "[2/4] ASan+UBSan build ($ASAN) ..."
ok=1
if [ ! -f "$ASAN/build.ninja" ]; then
	run "$LOGS/check-asan-setup.log" meson setup "$ASAN" -Ddebug_vm=true \
		-Db_sanitize=address,undefined -Db_lundef=false ${MESON_OPTS:-} || ok=0
fi
[ $ok = 1 ] && { run "$LOGS/check-asan-build.log" ninja -C "$ASAN" || ok=0; }
if [ $ok = 1 ]; then
	say "unit+scenario under ASan+UBSan ..."
	meson test -C "$ASAN" --suite unit --suite scenario --print-errorlogs || rc=1
fi

say "[3/4] TSan build ($TSAN, clang) ..."
ok=1
if [ ! -f "$TSAN/build.ninja" ]; then
	run "$LOGS/check-tsan-setup.log" env CC=clang meson setup "$TSAN" -Ddebug_vm=true \
		-Db_sanitize=thread -Db_lundef=false -Dstress_seconds=3 ${MESON_OPTS:-} || ok=0
fi
[ $ok = 1 ] && { run "$LOGS/check-tsan-build.log" ninja -C "$TSAN" || ok=0; }
if [ $ok = 1 ]; then
	say "stress under TSan ..."
	TSAN_OPTIONS="halt_on_error=1 suppressions=$TSAN_SUPP" \
		meson test -C "$TSAN" --suite stress --print-errorlogs || rc=1
fi

# Without clang the build is configured with the default compiler and each
# fuzz test reports itself skipped with the reason (tests/fuzz/meson.build).
say "[4/4] fuzz build ($FUZZ, clang + libFuzzer): replay, then 20 s per target ..."
ok=1
if [ ! -f "$FUZZ/build.ninja" ]; then
	if command -v clang >/dev/null 2>&1; then
		run "$LOGS/check-fuzz-setup.log" env CC=clang meson setup "$FUZZ" -Dfuzz=true \
			-Ddebug_vm=true -Db_sanitize=address,undefined -Db_lundef=false \
			${MESON_OPTS:-} || ok=0
	else
		say "no clang: the fuzz targets will report themselves skipped"
		run "$LOGS/check-fuzz-setup.log" meson setup "$FUZZ" -Dfuzz=true \
			${MESON_OPTS:-} || ok=0
	fi
fi
if [ $ok = 1 ]; then
	meson test -C "$FUZZ" --suite fuzz --print-errorlogs || rc=1
fi

say "summary ..."
python3 "$SRC/scripts/test-summary.py" "$BUILD:unit,scenario,stress,install" \
	"$ASAN:unit,scenario" "$TSAN:stress" "$FUZZ:fuzz" || rc=1
exit $rc

#!/bin/sh
# run_fuzz.sh FUZZER TARGET SRCDIR BUILDDIR - one fuzz target, as TAP.
#
#   1. replay: every file of SRCDIR/regress/TARGET (crashes found before,
#      now fixed) and of SRCDIR/corpus/TARGET (the seeds) runs once;
#   2. fuzz: FUZZ_SECONDS (default 20) of libFuzzer from the seeds, with a
#      working corpus in BUILDDIR/corpus/TARGET (kept between runs, so that
#      make fuzz goes on where it stopped; the repository's seeds are
#      never written) and crashes saved to BUILDDIR/artifacts/TARGET/.
# FUZZ_SECONDS=0 replays only.  The libFuzzer options bound one input's
# time (-timeout) and the process's memory (-rss_limit_mb, -malloc_limit_mb):
# exceeding either is a finding, like a crash or a sanitizer report.
set -u
rc=0
FUZZER=$1 T=$2 SRC=$3 BUILD=$4
SECS=${FUZZ_SECONDS:-20}
OPTS="-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536"
ART=$BUILD/artifacts/$T
CORPUS=$BUILD/corpus/$T
LOG=$BUILD/fuzz_$T.log
mkdir -p "$ART" "$CORPUS"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# A known open defect a target cannot avoid (see the file), per target.
if [ -f "$SRC/fuzz_$T.lsan.supp" ]; then
	export LSAN_OPTIONS="suppressions=$SRC/fuzz_$T.lsan.supp:print_suppressions=0"
fi
echo "1..2"

# 1. replay
files=$(find "$SRC/regress/$T" "$SRC/corpus/$T" -type f ! -name '.*' ! -name README 2>/dev/null | sort)
n=$(echo "$files" | grep -c . || true)
if [ "$n" -eq 0 ]; then
	echo "ok 1 - fuzz_$T: replay # SKIP no regress or seed files"
elif "$FUZZER" $OPTS $files >"$LOG" 2>&1; then
	echo "ok 1 - fuzz_$T: replay of $n regress and seed files"
else
	echo "not ok 1 - fuzz_$T: replay of $n regress and seed files failed"
	rc=1
	tail -n 40 "$LOG" | sed 's/^/# /'
fi

# 2. fuzz
if [ "$SECS" -eq 0 ]; then
	echo "ok 2 - fuzz_$T: fuzzing # SKIP FUZZ_SECONDS=0"
	exit $rc
fi
if "$FUZZER" $OPTS -max_total_time="$SECS" -print_final_stats=1 \
	-artifact_prefix="$ART/" -close_fd_mask=3 \
	"$CORPUS" "$SRC/corpus/$T" >"$LOG" 2>&1; then
	st=ok
else
	st="not ok"
	rc=1
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -n 1)
eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOG" | tail -n 1)
cov=$(grep -o 'cov: [0-9]*' "$LOG" | tail -n 1)
echo "$st 2 - fuzz_$T: ${SECS} s, ${execs:-?} executions (${eps:-?}/s), ${cov:-cov: ?}"
if [ "$st" != ok ]; then
	grep -E 'ERROR|SUMMARY|Test unit written|^    #[0-9]' "$LOG" | head -n 40 | sed 's/^/# /'
	echo "# full log: $LOG"
fi
exit $rc

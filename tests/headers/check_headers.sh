#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check_headers.sh - header hygiene of the public API: every header in
# include/pinmm/ compiles alone (it includes what it uses) as strict ISO C11
# with -Wall -Wextra -Wpedantic -Werror under each C compiler found (gcc,
# clang), and as C++11 under a C++ compiler when one is installed, so that a
# program in either language can include it first.
# Usage: check_headers.sh INCLUDE_DIR.  Prints TAP.

INC=${1:?usage: check_headers.sh INCLUDE_DIR}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pinmm-hdr.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
N=0
FAILED=0
SKIPPED=0

# try LANG COMPILER FLAGS...: compile one translation unit that includes $h only.
try() {
	lang=$1 comp=$2
	shift 2
	N=$((N + 1))
	printf '#include <pinmm/%s>\nint pinmm_header_check_%s;\n' "$h" "$N" >"$TMP/t.$lang"
	if "$comp" "$@" -fsyntax-only -I"$INC" "$TMP/t.$lang" >"$TMP/err" 2>&1; then
		echo "ok $N - $h alone: $comp $*"
	else
		echo "not ok $N - $h alone: $comp $*"
		sed 's/^/# /' "$TMP/err"
		FAILED=$((FAILED + 1))
	fi
}

found=0
for path in "$INC"/pinmm/*.h; do
	[ -f "$path" ] || continue
	found=1
	h=$(basename "$path")
	for cc in gcc clang; do
		command -v "$cc" >/dev/null 2>&1 || continue
		try c "$cc" -x c -std=c11 -Wall -Wextra -Wpedantic -Werror
	done
	for cxx in g++ clang++; do
		command -v "$cxx" >/dev/null 2>&1 || continue
		try cc "$cxx" -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror
	done
done
if [ "$found" = 0 ]; then
	echo "not ok 1 - no header found under $INC/pinmm"
	echo "1..1"
	exit 1
fi
if ! command -v g++ >/dev/null 2>&1 && ! command -v clang++ >/dev/null 2>&1; then
	N=$((N + 1))
	echo "ok $N - C++ compilation # SKIP no C++ compiler installed"
fi
echo "1..$N"
[ "$FAILED" = 0 ]

#!/bin/sh
# Install the Debian 12 packages pinmm needs, when they are missing.
# As root: apt-get, non-interactive.  Otherwise: name them and stop.
#
# What each build needs (installed with --no-install-recommends, so every
# package a build relies on is named here, recommended or not):
#   every build     make meson ninja-build pkgconf python3 (the test summary)
#                   liburcu-dev libcmocka-dev liburing-dev
#                   libjson-c-dev (JSON: the tool's, and trace files written by
#                   the library, doc/TRACING.md) libdw-dev (symbolised
#                   backtraces and pin owners in the library)
#   debug (gcc)     gcc
#   ASan+UBSan      gcc: libasan8 and libubsan1 come with gcc-12 (libgcc-12-dev)
#   TSan (clang)    clang; its ThreadSanitizer runtime libclang_rt.tsan is in
#                   libclang-rt-14-dev, only a Recommends of
#                   libclang-common-14-dev, so it is named explicitly
#   the tool        libjson-c-dev (the JSON it reads: traces for the HTML report)
#   tests           chromium (tests/tool/test_html_report.sh opens the HTML
#                   reports in it; without it that test is skipped)
set -eu
PKGS="gcc make meson ninja-build pkgconf python3 liburcu-dev libcmocka-dev liburing-dev"
PKGS="$PKGS libjson-c-dev libdw-dev"
PKGS="$PKGS clang libclang-rt-14-dev"
PKGS="$PKGS chromium"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "pinmm: missing Debian packages:$missing" >&2
	echo "pinmm: run as root, or: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "pinmm: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp "${TMPDIR:-/tmp}/pinmm-deps.XXXXXX")
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
	echo "pinmm: apt-get failed; the last lines of its output ($log):" >&2
	tail -n 25 "$log" >&2
	exit 1
fi
rm -f "$log"

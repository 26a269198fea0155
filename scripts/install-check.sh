#!/bin/sh
# SPDX-License-Identifier: MIT
#
# install-check.sh - `make install PREFIX=<tmp>`, then build a program that
# knows pinmm only through pkg-config, run it without LD_LIBRARY_PATH, and
# check that the headers, the .pc file (with an rpath) and the man pages
# were installed.  TAP output.  Usage: scripts/install-check.sh [BUILD_DIR]
# (default: a private build directory under the temporary prefix).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pinmm-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
BUILD=${1:-$TMP/build}
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }
check() { desc=$1; shift; if "$@" >"$TMP/out" 2>&1; then ok "$desc"; else not_ok "$desc"; sed 's/^/# /' "$TMP/out"; fi; }

echo "TAP version 13"
PREFIX=$TMP/prefix
check "make install PREFIX=$PREFIX" \
	make -C "$SRC" install PREFIX="$PREFIX" BUILD="$BUILD" MESON_OPTS="-Dtests=disabled"
PC=$PREFIX/lib/pkgconfig/pinmm.pc
check "pinmm.pc installed" test -f "$PC"
check "pinmm.pc Libs carry an rpath" grep -q '^Libs:.*-Wl,-rpath,' "$PC"
check "<pinmm/pinmm.h> installed" test -f "$PREFIX/include/pinmm/pinmm.h"
check "<pinmm/linux.h> installed" test -f "$PREFIX/include/pinmm/linux.h"
check "libpinmm.3 installed" test -f "$PREFIX/share/man/man3/libpinmm.3"
check "pinmm.1 installed" test -f "$PREFIX/share/man/man1/pinmm.1"
check "<pinmm/debug.h> installed" test -f "$PREFIX/include/pinmm/debug.h"
# The tool is a client of the shared library like prog.c below: installed,
# it must find libpinmm through its own rpath.
check "installed pinmm runs without LD_LIBRARY_PATH" env -u LD_LIBRARY_PATH "$PREFIX/bin/pinmm" version
check "installed pinmm uses the installed libpinmm" sh -c "ldd '$PREFIX/bin/pinmm' | grep -q '$PREFIX/lib/libpinmm'"

cat >"$TMP/prog.c" <<'PROG'
#include <errno.h>
#include <stdio.h>
#include <pinmm/pinmm.h>

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "failed: %s\n", #c); return 1; } } while (0)

int main(void)
{
	struct pinmm_config cfg;
	struct pinmm *m;
	struct pinmm_proc *p, *c;
	struct pinmm_page_info pi;
	unsigned char v = 7;
	long a;

	pinmm_config_default(&cfg);
	CHECK(pinmm_config_set(&cfg, "ram", "64M") == 0);
	CHECK(pinmm_boot(&cfg, &m) == 0);
	CHECK(pinmm_proc_create(m, &p) == 0);
	a = pinmm_mmap(p, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a > 0);
	CHECK(pinmm_load(p, a, &v, 1) == 1 && v == 0);
	CHECK(pinmm_page_info(p, a, &pi) == 0 && pi.zero_page);
	v = 42;
	CHECK(pinmm_store(p, a, &v, 1) == 1);
	CHECK(pinmm_fork(p, &c) == 0);
	v = 43;
	CHECK(pinmm_store(c, a, &v, 1) == 1);
	CHECK(pinmm_load(p, a, &v, 1) == 1 && v == 42);
	CHECK(pinmm_mmap(p, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == -EINVAL);
	CHECK(pinmm_exit(c) == 0 && pinmm_exit(p) == 0);
	CHECK(pinmm_shutdown(m) == 0);
	printf("pinmm %s ok\n", pinmm_version());
	return 0;
}
PROG
CC=${CC:-cc}
FLAGS=$(PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig pkg-config --cflags --libs pinmm 2>"$TMP/pc.err")
if [ $? -eq 0 ]; then ok "pkg-config --cflags --libs pinmm: $FLAGS"; else not_ok "pkg-config"; sed 's/^/# /' "$TMP/pc.err"; fi
# shellcheck disable=SC2086
check "compile against the installed library" $CC -Wall -Werror "$TMP/prog.c" -o "$TMP/prog" $FLAGS
check "run without LD_LIBRARY_PATH" env -u LD_LIBRARY_PATH "$TMP/prog"
check "the program uses the installed libpinmm" sh -c "ldd '$TMP/prog' | grep -q '$PREFIX/lib/libpinmm'"

echo "1..$n"
[ "$fail" -eq 0 ]

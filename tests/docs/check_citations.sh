#!/bin/sh
# SPDX-License-Identifier: MIT
# check_citations.sh - the repository cites only itself (TAP).
#
#  1. No tracked file points at the steering repository's shared/ tree
#     (its spec and docs are not part of pinmm): whatever the code cites
#     lives in doc/.
#  2. Every section "§N" or "§N.M" cited in src/, include/, tools/ or tests/
#     exists in doc/GUP-SEMANTICS.md as a heading "## N." or "### N.M"
#     (a citation written "X.md §N" names doc/X.md and is checked against
#     that document's headings instead).
#
# Usage: check_citations.sh SOURCE_ROOT
set -u
root=${1:-.}
cd "$root" || { echo "1..0 # SKIP no source root $root"; exit 0; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# The forbidden spellings, assembled so that this file does not match itself.
sd=shared
pat="$sd/spec|$sd/docs|\\.\\./$sd"

# Tracked files when this is a git checkout, every file otherwise.
if git -C . rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z | xargs -0 grep -I -n -E "$pat" -- 2>/dev/null >"$tmp/shared"
else
	find . -path ./.git -prune -o -path './build*' -prune -o -type f -print0 |
		xargs -0 grep -I -n -E "$pat" -- 2>/dev/null >"$tmp/shared"
fi

n=1
fail=0
if [ -s "$tmp/shared" ]; then
	echo "not ok $n - no file cites the shared/ tree (cite doc/ instead)"
	sed 's/^/# /' "$tmp/shared"
	fail=1
else
	echo "ok $n - no file cites the shared/ tree"
fi

# Section citations, one "file:line:section" per citation.
for doc in doc/GUP-SEMANTICS.md doc/API.md doc/BACKGROUND.md; do
	[ -f "$doc" ] || { echo "Bail out! $doc is missing"; exit 1; }
done
find src include tools tests -type f \( -name '*.c' -o -name '*.h' -o -name '*.sh' \
	-o -name '*.py' -o -name 'meson.build' \) 2>/dev/null | sort >"$tmp/files"
# One awk over every file: drop citations of the other documents (checked
# below), then print "file:line:§N.M" for each bare citation.
xargs awk '{
	line = $0
	gsub(/GUP-SEMANTICS\.md §/, "§", line)
	gsub(/[A-Z][A-Z-]*\.md §[0-9.]+/, "", line)
	while (match(line, /§[0-9]+(\.[0-9]+)*/)) {
		print FILENAME ":" FNR ":" substr(line, RSTART, RLENGTH)
		line = substr(line, RSTART + RLENGTH)
	}
}' <"$tmp/files" >"$tmp/cites"
# Then every explicit "X.md §N" citation, in the code and in doc/.
find src include tools tests doc README.md -type f 2>/dev/null | sort |
	xargs grep -n -o -E '[A-Z][A-Z-]*\.md §[0-9]+(\.[0-9]+)*' -- 2>/dev/null >"$tmp/other"

has_heading() {	# has_heading SECTION DOC
	sec=$1; doc=$2
	[ -f "$doc" ] || return 1
	case $sec in
	*.*) re="^### $(printf '%s' "$sec" | sed 's/\./\\./g')( |$)" ;;
	*) re="^## $sec\\. " ;;
	esac
	grep -q -E "$re" "$doc"
}

cut -d: -f3 "$tmp/cites" | sed 's/§//; s/\.$//' | sort -u -t. -k1,1n -k2,2n >"$tmp/secs"
while IFS= read -r sec; do
	n=$((n + 1))
	if has_heading "$sec" doc/GUP-SEMANTICS.md; then
		echo "ok $n - §$sec has a heading in doc/GUP-SEMANTICS.md"
	else
		echo "not ok $n - §$sec is cited but doc/GUP-SEMANTICS.md has no heading for it"
		grep ":§$sec\$" "$tmp/cites" | sed 's/^/#   cited at /'
		fail=1
	fi
done <"$tmp/secs"

while IFS= read -r line; do
	ref=${line##*:}
	doc=doc/${ref%% *}
	[ -f "$doc" ] || doc=missing:$doc
	sec=${ref#*§}
	n=$((n + 1))
	if has_heading "$sec" "$doc"; then
		echo "ok $n - $ref exists"
	else
		echo "not ok $n - $ref has no heading in $doc (cited at ${line%:*})"
		fail=1
	fi
done <"$tmp/other"

echo "1..$n"
exit $fail

#!/bin/sh
# Install the Debian packages pinmm needs, when they are missing.
# As root: apt-get, non-interactive.  Otherwise: name them and stop.
set -eu
PKGS="gcc make meson ninja-build pkgconf python3 liburcu-dev libcmocka-dev liburing-dev clang"
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
echo "pinmm: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null

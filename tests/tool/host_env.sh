# SPDX-License-Identifier: MIT
# host_env.sh - sourced by the host-mode tests: exit 77 (SKIP) with the
# reason when this host cannot run scripts (pinmm run --host) faithfully.
host_skip() {
	echo "1..0 # SKIP $1"
	exit 77
}
[ "$(id -u)" = 0 ] || host_skip "not root: /proc/PID/pagemap hides PFNs and /proc/kpageflags is closed"
[ -r /proc/kpageflags ] && [ -r /proc/kpagecount ] || host_skip "no /proc/kpageflags or /proc/kpagecount"
if [ -r /proc/sys/kernel/io_uring_disabled ] && [ "$(cat /proc/sys/kernel/io_uring_disabled)" != 0 ]; then
	host_skip "io_uring is disabled (kernel.io_uring_disabled=$(cat /proc/sys/kernel/io_uring_disabled))"
fi
# Scratch directories of the host side (/dev/shm/pinmm-host.*,
# /var/tmp/pinmm-host.*).  Other runs on the machine (pinmm fuzz) make
# short-lived ones too, so a leak is one that was not there before (file
# $1, from host_scratch) and is still there 2 s later: listed into $2, and
# the status is 0 when there is none.
host_scratch() { ls -d /dev/shm/pinmm-host.* /var/tmp/pinmm-host.* 2>/dev/null | sort; }
host_scratch_left() {
	host_scratch | comm -13 "$1" - >"$2.new"
	sleep 2
	host_scratch | comm -12 "$2.new" - >"$2"
	[ ! -s "$2" ]
}

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

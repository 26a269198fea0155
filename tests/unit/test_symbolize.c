/* SPDX-License-Identifier: MIT */
/*
 * test_symbolize.c - function names instead of addresses (src/kernel/
 * symbolize.c): a code address names its function and source line, a
 * WARN_ON() and a BUG_ON() in a child process print a call trace that
 * names the function that fired them, and pin provenance names the
 * function that pinned (a static one, which no dynamic symbol table has).
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pinmm/linux.h>
#include "helpers.h"
#include "bug.h"
#include "symbolize.h"

/* How long a child may take to print its splat and end. */
#define CHILD_DEADLINE_MS 20000

static __attribute__((noinline)) int known_function(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

static void test_symbolize_names_function_and_line(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(pinmm_symbolize((const void *)known_function, 0, buf, sizeof(buf)), 2);
	if (strncmp(buf, "known_function+0x0 (", 20) || !strstr(buf, "test_symbolize.c:"))
		fail_msg("symbolized as '%s'", buf);
	assert_int_equal(pinmm_symbolize((const void *)known_function, SYM_SHORT_FILE, buf,
					 sizeof(buf)), 2);
	if (!strstr(buf, "(test_symbolize.c:"))
		fail_msg("short form '%s'", buf);
}

/* No module maps address 16: the fallback is the raw address. */
static void test_symbolize_fallback_raw(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(pinmm_symbolize((const void *)16, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0x10");
	/* A buffer too small is cut, never overrun. */
	assert_true(pinmm_symbolize((const void *)known_function, 0, buf, 8) > 0);
	assert_int_equal(strlen(buf), 7);
}

static __attribute__((noinline)) void warn_from_here(void)
{
	WARN_ON(known_function(0) == 1);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void bug_from_here(void)
{
	BUG_ON(known_function(1) == 2);
	__asm__ volatile("" ::: "memory");
}

/*
 * Run @fn in a child whose stderr is a pipe; collect what it prints into
 * @out and return its wait status.  Fails the test past the deadline.
 */
static int run_child(void (*fn)(void), char *out, size_t len)
{
	int fds[2], status = 0;
	size_t n = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		fn();
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, CHILD_DEADLINE_MS) != 1) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(fds[0]);
			fail_msg("the child printed nothing for %d ms", CHILD_DEADLINE_MS);
		}
		r = read(fds[0], out + n, len - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == len - 1)
			break;
	}
	out[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_warn_prints_named_call_trace(void **state)
{
	static char out[16384];
	int status;

	(void)state;
	status = run_child(warn_from_here, out, sizeof(out));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!strstr(out, "pinmm: WARNING at") || !strstr(out, "pinmm: Call Trace:") ||
	    !strstr(out, "pinmm:  warn_from_here") || !strstr(out, "test_symbolize.c:") ||
	    !strstr(out, "pinmm:  run_child"))
		fail_msg("splat without a named call trace:\n%s", out);
	/* the reporting functions themselves are left out (the name may carry
	 * a compiler suffix such as ".cold" or ".constprop.0") */
	if (strstr(out, "pinmm_dump_stack+") || strstr(out, "pinmm_warn+"))
		fail_msg("the trace starts inside bug.c:\n%s", out);
}

static void test_bug_prints_named_call_trace(void **state)
{
	static char out[16384];
	int status;

	(void)state;
	status = run_child(bug_from_here, out, sizeof(out));
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	if (!strstr(out, "pinmm: BUG at") || !strstr(out, "pinmm:  bug_from_here"))
		fail_msg("BUG without a named call trace:\n%s", out);
}

static __attribute__((noinline)) long pin_from_here(unsigned long a, struct page **pg)
{
	long n = pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, pg);

	__asm__ volatile("" ::: "memory");
	return n;
}

static void check_owner(const struct pinmm_pin_owner *o, void *arg)
{
	int *named = arg;

	if (!strncmp(o->caller_name, "pin_from_here+0x", 16) &&
	    strstr(o->caller_name, "(test_symbolize.c:"))
		(*named)++;
	else
		print_message("# owner named '%s'\n", o->caller_name);
}

static void test_provenance_names_function(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "pin.provenance=1", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4096);
	struct page *pg;
	int named = 0;

	(void)state;
	test_store8(p, a, 1);
	assert_int_equal(pin_from_here(a, &pg), 1);
	assert_int_equal(pinmm_pin_owners(m, check_owner, &named), 1);
	assert_int_equal(named, 1);
	unpin_user_pages(&pg, 1);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symbolize_names_function_and_line),
		cmocka_unit_test(test_symbolize_fallback_raw),
		cmocka_unit_test(test_warn_prints_named_call_trace),
		cmocka_unit_test(test_bug_prints_named_call_trace),
		cmocka_unit_test(test_provenance_names_function),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

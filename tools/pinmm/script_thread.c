/* SPDX-License-Identifier: MIT */
/*
 * script_thread.c - `thread NAME { ... }` blocks at run time
 * (doc/SCENARIOS.md "Threads"): each block of a group runs on its own
 * pthread, a CPU of the booted machine, all of them at once; the main line
 * of the script waits for all of them before its next line.  Also the two
 * commands that make a line's outcome depend on a race without stopping
 * the script: `try COMMAND` and `when NAME COMMAND`.
 *
 * Owns: the runner state of a thread (struct script_thread: a copy of the
 * script with its own line, message, `-> NAME` binding, current process
 * and the variables it binds), the start gate, the group's deadline and the
 * join, where the thread's variables and expectation counts go back to the
 * main script.  The explorer (explore_script.c) runs the same per-thread
 * state under its scheduler instead of free-running pthreads.
 *
 * What threads share: the machine (its own locking makes concurrent calls
 * safe), the main script's variables as they were when the group started
 * (read; a thread's binding of a name makes a new variable in front of the
 * shared ones, so no list node is written by two threads), stdout/stderr
 * and the TAP counter (script.c's output lock), the command groups' private
 * slots (script_private(), under its lock).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "script_flow.h"

/*
 * A free-running group that is not done by then is a hang: the run ends.
 * PINMM_THREAD_DEADLINE_MS overrides it (the test of the deadline itself).
 */
#define GROUP_DEADLINE_MS	60000L

static long group_deadline_ms(void)
{
	const char *e = getenv("PINMM_THREAD_DEADLINE_MS");
	char *end;
	long v;

	if (!e || !*e)
		return GROUP_DEADLINE_MS;
	v = strtol(e, &end, 10);
	return *end || v < 1 ? GROUP_DEADLINE_MS : v;
}

int script_group_span(const struct sfile *sf, int first, int *end, int *t0)
{
	int g = sf->threads[sf->lines[first].thread].group, n = 0, e = first;

	*t0 = -1;
	for (int k = 0; k < sf->nthreads; k++) {
		if (sf->threads[k].group != g)
			continue;
		if (*t0 < 0)
			*t0 = k;
		n++;
	}
	while (e < sf->nlines && sf->lines[e].thread >= 0 &&
	       sf->threads[sf->lines[e].thread].group == g)
		e++;
	*end = e;
	return n;
}

void script_thread_begin(struct script_thread *t, struct script *main, struct sfile *sf,
			 int idx, int lo, int hi)
{
	memset(t, 0, sizeof(*t));
	t->s = *main;
	t->s.thread = t;
	t->s.vars_shared = main->vars;
	t->s.nexpect = 0;
	t->s.nfailed = 0;
	t->s.errmsg[0] = '\0';
	t->s.bind = NULL;
	t->main = main;
	t->st = &sf->threads[idx];
	t->sf = sf;
	t->idx = idx;
	t->lo = lo;
	t->hi = hi;
	atomic_store(&t->at, lo);
}

int script_thread_lines(struct script_thread *t)
{
	int status = EXIT_OK;

	pinmm_set_current(t->s.cur);
	for (int k = t->lo; k < t->hi && status == EXIT_OK; k++) {
		if (t->sf->lines[k].thread != t->idx)
			continue;
		atomic_store(&t->at, k);
		status = script_run_line(&t->s, &t->sf->lines[k]);
	}
	pinmm_set_current(NULL);
	t->status = status;
	return status;
}

void script_thread_end(struct script_thread *t)
{
	struct script *main = t->main;
	struct var *last = NULL;

	for (struct var *v = t->s.vars; v && v != t->s.vars_shared; v = v->next)
		last = v;
	if (last) {
		/* The thread's bindings go in front: they shadow the setup's. */
		last->next = main->vars;
		main->vars = t->s.vars;
	}
	t->s.vars = NULL;
	main->nexpect += t->s.nexpect;
	main->nfailed += t->s.nfailed;
}

int script_run_always(struct script *s, struct sfile *sf, int upto)
{
	int status = EXIT_OK;

	for (int i = 0; i < upto && status == EXIT_OK; i++)
		if (sf->lines[i].thread == SLINE_ALWAYS)
			status = script_run_line(s, &sf->lines[i]);
	return status;
}

/* ---- pinmm run: free-running pthreads ------------------------------------------ */

struct group {
	pthread_mutex_t lock;
	pthread_cond_t cv;		/* go, and each thread done */
	bool go;
	int ndone;
	struct script_thread *t;
};

struct group_arg {
	struct group *g;
	struct script_thread *t;
};

static void *group_thread(void *arg)
{
	struct group_arg *a = arg;
	struct group *g = a->g;

	pthread_mutex_lock(&g->lock);
	while (!g->go)
		pthread_cond_wait(&g->cv, &g->lock);
	pthread_mutex_unlock(&g->lock);
	script_thread_lines(a->t);
	pthread_mutex_lock(&g->lock);
	a->t->done = true;
	g->ndone++;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* The deadline passed: name every thread still running and its line, then stop. */
static __attribute__((noreturn)) void group_hang(struct group *g, int n, long ms)
{
	for (int i = 0; i < n; i++) {
		struct script_thread *t = &g->t[i];
		const struct sline *sl;

		if (t->done)
			continue;
		sl = &t->sf->lines[atomic_load(&t->at)];
		fflush(stdout);
		fprintf(stderr, "%s:%d: thread %s: still running %ld ms after its group started "
			"(a deadlock, or a wait nothing ends): %s\n", sl->file, sl->no,
			t->st->name, ms, sl->text);
	}
	fflush(NULL);
	_exit(EXIT_FAIL);
}

static int worse(int a, int b)
{
	return a == EXIT_USAGE || b == EXIT_USAGE ? EXIT_USAGE : a ? a : b;
}

int script_run_group(struct script *s, struct sfile *sf, int first, int *next)
{
	struct group g = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct group_arg *args;
	pthread_condattr_t ca;
	struct timespec dl;
	long ms;
	int end, t0, n = script_group_span(sf, first, &end, &t0), started = 0, status = EXIT_OK;

	*next = end;
	g.t = calloc((size_t)n, sizeof(*g.t));
	args = calloc((size_t)n, sizeof(*args));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g.cv, &ca);
	pthread_condattr_destroy(&ca);
	if (!g.t || !args) {
		script_error(s, "thread group: out of memory");
		status = EXIT_FAIL;
		goto out;
	}
	for (int i = 0; i < n; i++)
		script_thread_begin(&g.t[i], s, sf, t0 + i, first, end);
	for (; started < n; started++) {
		args[started] = (struct group_arg){ &g, &g.t[started] };
		if (pthread_create(&g.t[started].th, NULL, group_thread, &args[started])) {
			s->file = g.t[started].st->file;
			s->line = g.t[started].st->no;
			script_error(s, "thread %s: cannot start a thread", g.t[started].st->name);
			status = EXIT_FAIL;
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &dl);
	ms = group_deadline_ms();
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g.lock);
	g.go = true;
	pthread_cond_broadcast(&g.cv);
	while (g.ndone < started)
		if (pthread_cond_timedwait(&g.cv, &g.lock, &dl) == ETIMEDOUT && g.ndone < started)
			group_hang(&g, started, ms);
	pthread_mutex_unlock(&g.lock);
	for (int i = 0; i < started; i++) {
		pthread_join(g.t[i].th, NULL);
		status = worse(status, g.t[i].status);
	}
	/* Every thread's variables come back, also a failed one's (its pins). */
	for (int i = 0; i < started; i++)
		script_thread_end(&g.t[i]);
	if (end > first) {
		s->file = sf->lines[end - 1].file;
		s->line = sf->lines[end - 1].no;
	}
out:
	pthread_cond_destroy(&g.cv);
	free(args);
	free(g.t);
	return status;
}

/* ---- try and when ------------------------------------------------------------------ */

/*
 * try COMMAND... [-> NAME]: a library error of COMMAND (a negative errno) is
 * not a script error; the line goes on and NAME, if given, is bound to 0.
 */
static int cmd_try(struct script *s, int argc, char **argv)
{
	int rc;

	if (argc < 2)
		return script_syntax(s, "usage: try COMMAND...");
	rc = script_dispatch(s, argc - 1, argv + 1);
	if (rc >= 0)
		return rc;
	return var_bind_int(s, 0);
}

/* A variable that holds something: pages, a live process, bytes, a non-zero int. */
static bool var_holds(const struct var *v)
{
	switch (v->kind) {
	case V_PAGES:
		return v->npages > 0;
	case V_PROC:
		return v->proc != NULL;
	case V_BYTES:
		return v->len > 0;
	default:
		return v->ival != 0;
	}
}

/* when NAME COMMAND...: run COMMAND only when NAME holds something. */
static int cmd_when(struct script *s, int argc, char **argv)
{
	struct var *v;

	if (argc < 3 || !script_is_ident(argv[1]))
		return script_syntax(s, "usage: when NAME COMMAND...");
	v = var_find(s, argv[1]);
	if (!v || !var_holds(v))
		return s->bind ? var_bind_int(s, 0) : 0;
	return script_dispatch(s, argc - 2, argv + 2);
}

static const struct script_cmd thread_cmds[] = {
	{ "try", cmd_try, BIND_OPTIONAL,
	  "try COMMAND... [-> X]   (an error of COMMAND goes on; X is then 0)" },
	{ "when", cmd_when, BIND_OPTIONAL,
	  "when NAME COMMAND...   (only if NAME holds pages, a live process, bytes or non-zero)" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group thread_group = {
	.title = "Races: thread blocks (thread NAME { ... })",
	.order = 80,
	.cmds = thread_cmds,
};
SCRIPT_GROUP(thread_group);

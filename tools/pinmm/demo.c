/* SPDX-License-Identifier: MIT */
/*
 * demo.c - `pinmm demo`: a short guided run of the memory model for a
 * learner.  The run is a list of acts; each act does a few things through
 * the public API, then shows the pages involved (struct pinmm_page_info as
 * a table) and the vmstat counters that moved.  To extend the tour (DIO,
 * RDMA, ODP when pinning lands), write one more act function and add it to
 * the acts[] table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define PG 4096UL

struct counter {
	char *name;
	long value;
};

struct demo {
	struct pinmm *m;
	struct pinmm_proc *parent, *child;
	unsigned long priv, shared, fmap;
	int fd;
	struct counter *snap;
	int nsnap, capsnap;
};

struct act {
	const char *title;
	const char *story;
	int (*run)(struct demo *d);
};

/* ---- printing helpers ------------------------------------------------------------ */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("  > ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Print the page at @addr of @p as one table row labelled @who. */
static int show(struct pinmm_proc *p, const char *who, unsigned long addr)
{
	struct pinmm_page_info pi;
	char row[200];
	int rc = pinmm_page_info(p, addr, &pi);

	if (rc)
		return rc;
	page_table_row(row, sizeof(row), addr, &pi);
	printf("    %-7s %s\n", who, row);
	return 0;
}

static void table_head(void)
{
	printf("    %-7s %s\n", "who", page_table_header());
}

static void snap_add(const char *name, long value, void *arg)
{
	struct demo *d = arg;

	if (d->nsnap == d->capsnap) {
		int cap = d->capsnap ? d->capsnap * 2 : 64;
		struct counter *n = realloc(d->snap, cap * sizeof(*n));

		if (!n)
			return;
		d->snap = n;
		d->capsnap = cap;
	}
	d->snap[d->nsnap].name = strdup(name);
	d->snap[d->nsnap].value = value;
	if (d->snap[d->nsnap].name)
		d->nsnap++;
}

static void snap_free(struct demo *d)
{
	for (int i = 0; i < d->nsnap; i++)
		free(d->snap[i].name);
	free(d->snap);
	d->snap = NULL;
	d->nsnap = d->capsnap = 0;
}

static void snap_take(struct demo *d)
{
	for (int i = 0; i < d->nsnap; i++)
		free(d->snap[i].name);
	d->nsnap = 0;
	if (d->m)
		pinmm_vmstat_foreach(d->m, snap_add, d);
}

/* Print every counter that changed since the last snapshot. */
static void show_counters(struct demo *d)
{
	int shown = 0;

	if (!d->m)
		return;
	for (int i = 0; i < d->nsnap; i++) {
		long now = pinmm_vmstat(d->m, d->snap[i].name);

		if (now < 0 || now == d->snap[i].value)
			continue;
		printf("%s%s %+ld", !shown ? "    vmstat: " : shown % 3 ? ",  " : ",\n            ",
		       d->snap[i].name, now - d->snap[i].value);
		shown++;
	}
	printf(shown ? "\n" : "    vmstat: (no counter moved)\n");
}

/* ---- acts --------------------------------------------------------------------------- */

static int act_boot(struct demo *d)
{
	struct pinmm_config cfg;
	int rc;

	pinmm_config_default(&cfg);
	if ((rc = pinmm_config_set(&cfg, "ram", "256M")) ||
	    (rc = pinmm_config_set(&cfg, "debug", "2")) ||
	    (rc = pinmm_boot(&cfg, &d->m)))
		return rc;
	say("boot ram=256M debug=2 (the full auditor checks every API call)");
	rc = pinmm_proc_create(d->m, &d->parent);
	if (rc)
		return rc;
	say("proc P: pid %d, an empty address space", pinmm_proc_pid(d->parent));
	return 0;
}

static int act_zero_page(struct demo *d)
{
	unsigned char b;
	long ret = pinmm_mmap(d->parent, 0, 4 * PG, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (ret < 0)
		return (int)ret;
	d->priv = (unsigned long)ret;
	say("mmap 16K private anonymous -> %#lx (no page is allocated yet)", d->priv);
	table_head();
	show(d->parent, "P", d->priv);
	ret = pinmm_load(d->parent, d->priv, &b, 1);
	if (ret < 0)
		return (int)ret;
	say("load 1 byte at %#lx -> %u: a read fault maps the shared zero page", d->priv, b);
	table_head();
	return show(d->parent, "P", d->priv);
}

static int act_write_fault(struct demo *d)
{
	long ret = pinmm_store(d->parent, d->priv, "hello", 5);

	if (ret < 0)
		return (int)ret;
	ret = pinmm_store(d->parent, d->priv + PG, "world", 5);
	if (ret < 0)
		return (int)ret;
	say("store \"hello\" at %#lx and \"world\" at %#lx", d->priv, d->priv + PG);
	say("the write fault replaces the zero page with a private, exclusive anon page");
	table_head();
	show(d->parent, "P", d->priv);
	return show(d->parent, "P", d->priv + PG);
}

static int act_fork_cow(struct demo *d)
{
	char buf[6] = "";
	int rc = pinmm_fork(d->parent, &d->child);
	long ret;

	if (rc)
		return rc;
	say("fork P -> C: both map the same pages, write-protected, no longer exclusive");
	table_head();
	show(d->parent, "P", d->priv);
	show(d->child, "C", d->priv);
	ret = pinmm_store(d->child, d->priv, "HELLO", 5);
	if (ret < 0)
		return (int)ret;
	say("C stores \"HELLO\" at %#lx: C's write fault copies the page (COW)", d->priv);
	ret = pinmm_store(d->parent, d->priv + PG, "WORLD", 5);
	if (ret < 0)
		return (int)ret;
	say("P stores \"WORLD\" at %#lx: the other direction, P gets its own copy", d->priv + PG);
	table_head();
	show(d->parent, "P", d->priv);
	show(d->child, "C", d->priv);
	show(d->parent, "P", d->priv + PG);
	show(d->child, "C", d->priv + PG);
	pinmm_load(d->parent, d->priv, buf, 5);
	say("P still reads \"%s\" at %#lx", buf, d->priv);
	pinmm_load(d->child, d->priv + PG, buf, 5);
	say("C still reads \"%s\" at %#lx", buf, d->priv + PG);
	return 0;
}

static int act_shared_anon(struct demo *d)
{
	struct pinmm_proc *c2;
	char buf[8] = "";
	long ret = pinmm_mmap(d->parent, 0, PG, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int rc;

	if (ret < 0)
		return (int)ret;
	d->shared = (unsigned long)ret;
	say("P: mmap 4K MAP_SHARED|MAP_ANONYMOUS -> %#lx, store \"ping\"", d->shared);
	if ((ret = pinmm_store(d->parent, d->shared, "ping", 4)) < 0)
		return (int)ret;
	if ((rc = pinmm_fork(d->parent, &c2)))
		return rc;
	say("fork P -> D; D stores \"pong\": no COW, it is the same (shmem) page");
	if ((ret = pinmm_store(c2, d->shared, "pong", 4)) < 0)
		return (int)ret;
	pinmm_load(d->parent, d->shared, buf, 4);
	say("P reads \"%s\"", buf);
	table_head();
	show(d->parent, "P", d->shared);
	show(c2, "D", d->shared);
	rc = pinmm_exit(c2);
	say("exit D");
	return rc;
}

static int act_memfd(struct demo *d)
{
	char buf[16] = "";
	long ret;
	int rc;

	d->fd = pinmm_memfd_create(d->parent, "demo", 0);
	if (d->fd < 0)
		return d->fd;
	if ((rc = pinmm_ftruncate(d->parent, d->fd, 2 * PG)))
		return rc;
	if ((ret = pinmm_pwrite(d->parent, d->fd, "via pwrite", 10, 0)) < 0)
		return (int)ret;
	say("memfd_create \"demo\" -> fd %d, ftruncate 8K, pwrite \"via pwrite\" at 0", d->fd);
	ret = pinmm_mmap(d->parent, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
	if (ret < 0)
		return (int)ret;
	d->fmap = (unsigned long)ret;
	pinmm_load(d->parent, d->fmap, buf, 10);
	say("mmap the memfd shared -> %#lx; load reads \"%s\": one page cache page", d->fmap, buf);
	if ((ret = pinmm_store(d->parent, d->fmap + PG, "via store", 9)) < 0)
		return (int)ret;
	memset(buf, 0, sizeof(buf));
	pinmm_pread(d->parent, d->fd, buf, 9, PG);
	say("store \"via store\" through the mapping at +4K; pread at 4K reads \"%s\"", buf);
	table_head();
	show(d->parent, "P", d->fmap);
	return show(d->parent, "P", d->fmap + PG);
}

static int act_munmap(struct demo *d)
{
	unsigned char b;
	int rc = pinmm_munmap(d->parent, d->priv, 4 * PG);
	long ret;

	if (rc)
		return rc;
	say("munmap 16K at %#lx: P's private pages are freed (C still has its own)", d->priv);
	ret = pinmm_load(d->parent, d->priv, &b, 1);
	say("load at %#lx now fails with %s (%ld): a real process gets SIGSEGV",
	    d->priv, pinmm_strerror((int)ret), ret);
	return ret == -EFAULT ? 0 : -EPROTO;
}

static int act_shutdown(struct demo *d)
{
	int rc;

	if ((rc = pinmm_close(d->parent, d->fd)) || (rc = pinmm_exit(d->child)) ||
	    (rc = pinmm_exit(d->parent)))
		return rc;
	say("close the memfd, exit C and P");
	rc = pinmm_audit(d->m);
	say("audit: %s (VMAs, page tables, rmap, refcounts and mapcounts agree)",
	    rc ? pinmm_strerror(rc) : "consistent");
	if (rc)
		return rc;
	show_counters(d);
	rc = pinmm_shutdown(d->m);
	d->m = NULL;
	say("shutdown: %s", rc ? pinmm_strerror(rc) : "every frame free, no pin left");
	return rc;
}

static const struct act acts[] = {
	{ "Boot a machine", "A machine is RAM, zones and a configuration; processes run on it.",
	  act_boot },
	{ "Reading untouched memory", "mmap only reserves addresses. The first read maps the "
	  "zero page, shared by everyone, read-only.", act_zero_page },
	{ "The write fault", "The first write allocates a private page for this process.",
	  act_write_fault },
	{ "fork and copy-on-write", "fork shares every private page read-only; the first "
	  "writer, parent or child, gets a copy.", act_fork_cow },
	{ "MAP_SHARED across fork", "Shared mappings are never copied: both processes see "
	  "every write.", act_shared_anon },
	{ "A memfd: mapping and file agree", "pread/pwrite and loads/stores through a shared "
	  "mapping reach the same page cache pages.", act_memfd },
	{ "munmap", "After munmap the addresses are gone.", act_munmap },
	{ "Shutdown and audit", "The auditor cross-checks everything; shutdown proves that "
	  "every frame came back.", act_shutdown },
};

int pinmm_cmd_demo(int argc, char **argv)
{
	struct demo d = { .fd = -1 };
	int rc = 0;

	if (argc > 1) {
		fprintf(stderr, "Usage: pinmm demo\n");
		return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? EXIT_USAGE : EXIT_OK;
	}
	printf("pinmm demo: a guided run of the memory model (libpinmm %s)\n", pinmm_version());
	printf("Columns: pres=present wr=writable excl=anon_exclusive ref=refcount "
	       "map=mapcount pin=pincount ord=folio_order\n");
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]) && !rc; i++) {
		printf("\n== Act %zu: %s ==\n  %s\n", i + 1, acts[i].title, acts[i].story);
		snap_take(&d);
		rc = acts[i].run(&d);
		if (rc == 0 && d.m && d.nsnap)
			show_counters(&d);
	}
	if (rc) {
		fprintf(stderr, "pinmm demo: failed: %s (%d)\n", pinmm_strerror(rc), rc);
		if (d.m)
			pinmm_shutdown(d.m);
	} else {
		printf("\nThe end. Scripts in examples/ replay these steps: pinmm run examples/*.pinmm\n");
	}
	snap_free(&d);
	return rc ? EXIT_FAIL : EXIT_OK;
}

/* SPDX-License-Identifier: MIT */
/*
 * host_pages.c - what a script observes about pages on the host: the host
 * handlers of expect, info and show, and of clear_refs, which acts on the
 * soft-dirty state those observe (pageout is a range command, host_cmds.c).
 *
 * A page's state comes from the kernel's own reports, never from the
 * runner's bookkeeping: /proc/PID/maps (is there a VMA), /proc/PID/pagemap
 * (present bit 63, swapped 62, file-or-shared 61, mapped-exclusively 56,
 * soft-dirty 55, PFN 0-54), /proc/kpageflags of that PFN (anon, THP,
 * compound head/tail, zero page, KSM, hugetlb, swap-backed) and
 * /proc/kpagecount (the mapcount).  Memory and file contents are read by
 * the process itself (real loads, pread).
 *
 * Fields the host does not report per page are refused when a line names
 * them: writable (a PTE bit pagemap does not export), anon_exclusive (bit 56
 * means "mapped once", not PageAnonExclusive: use mapcount=1), dirty,
 * writeback and lru (folio flags that lag the PTEs behind per-CPU batches),
 * refcount, pincount and pinned (not exported at all), zone.  PFNs are
 * real and differ from pinmm's: scripts compare them with each other
 * (pfn==X after `info A pfn -> X`), and `pinmm diff` compares only whether
 * such a check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tool.h"
#include "host.h"
#include "json_out.h"

#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_EXCLUSIVE	(1ULL << 56)
#define PM_FILE		(1ULL << 61)
#define PM_SWAP		(1ULL << 62)
#define PM_PRESENT	(1ULL << 63)

/* Bits of /proc/kpageflags (include/uapi/linux/kernel-page-flags.h). */
enum {
	KPF_ANON = 12, KPF_SWAPBACKED = 14, KPF_COMPOUND_HEAD = 15,
	KPF_COMPOUND_TAIL = 16, KPF_HUGE = 17, KPF_KSM = 21, KPF_THP = 22,
	KPF_ZERO_PAGE = 24,
};

static const struct {
	const char *field;
	const char *why;
} unobservable[] = {
	{ "writable", "pagemap does not export the PTE's write bit" },
	{ "anon_exclusive", "pagemap bit 56 means 'mapped once', not PageAnonExclusive; "
	  "use mapcount=1" },
	{ "dirty", "the folio's dirty flag lags the PTE's on the host" },
	{ "writeback", "writeback is a moment of the host's I/O, not script state" },
	{ "lru", "LRU membership lags behind the host's per-CPU batches" },
	{ "refcount", "the host does not export page reference counts" },
	{ "pincount", "the host does not export pin counts per page" },
	{ "pinned", "the host does not export pin state per page (compare pages by pfn, "
	  "or nr_foll_pin_* deltas)" },
	{ "maybe_dma_pinned", "the host does not export pin state per page" },
	{ "zone", "host zones are not pinmm's" },
};

static int pread_u64(const char *path, uint64_t index, uint64_t *v);
static bool kpf(uint64_t flags, int bit);

/*
 * Whether a read fault of this host maps the shared zero page: some hosts
 * (a kernel booted with pvm_no_zero_page=1, as this project's CI VM is)
 * allocate an anonymous page instead.  Probed once, in the runner itself.
 */
static bool host_maps_zero_page(void)
{
	static int known = -1;
	uint64_t pm = 0, flags = 0;
	volatile unsigned char *p;

	if (known >= 0)
		return known;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	(void)p[0];
	known = !pread_u64("/proc/self/pagemap", (uintptr_t)p / 4096, &pm) &&
		!pread_u64("/proc/kpageflags", pm & ((1ULL << 55) - 1), &flags) &&
		kpf(flags, KPF_ZERO_PAGE);
	munmap((void *)p, 4096);
	return known;
}

/* Refuse a page check @tok ("!writable", "pincount=1") the host cannot answer. */
static int host_field_ok(struct script *s, const char *cmd, const char *tok)
{
	const char *name = tok + (tok[0] == '!');
	size_t n = strcspn(name, "=!<>");

	if (n == 9 && !strncmp(name, "zero_page", 9) && !host_maps_zero_page())
		return host_refuse(s, cmd, "page field 'zero_page': this host kernel maps no "
				   "shared zero page on read faults (booted with "
				   "pvm_no_zero_page=1?), so the answer would describe the host");

	for (size_t k = 0; k < ARRAY_SIZE(unobservable); k++)
		if (strlen(unobservable[k].field) == n && !strncmp(name, unobservable[k].field, n))
			return host_refuse(s, cmd, "page field '%s': %s", unobservable[k].field,
					   unobservable[k].why);
	return 0;
}

static int pread_u64(const char *path, uint64_t index, uint64_t *v)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, v, sizeof(*v), (off_t)(index * sizeof(*v)));
	close(fd);
	if (n != (ssize_t)sizeof(*v))
		return n < 0 ? -errno : -EIO;
	return 0;
}

static bool kpf(uint64_t flags, int bit)
{
	return flags >> bit & 1;
}

/* Whether @addr lies in a VMA of @pid (/proc/PID/maps). */
static int has_vma(pid_t pid, unsigned long addr)
{
	char path[64], line[512];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi)
			found = 1;
	}
	fclose(f);
	return found;
}

/* The order of the compound page @pfn belongs to (0 for a small page). */
static int folio_order_of(uint64_t pfn, uint64_t flags)
{
	uint64_t head = pfn, f = flags, n = 1;

	if (!kpf(flags, KPF_COMPOUND_HEAD) && !kpf(flags, KPF_COMPOUND_TAIL))
		return 0;
	while (kpf(f, KPF_COMPOUND_TAIL) && pfn - head < 512 && head > 0)
		if (pread_u64("/proc/kpageflags", --head, &f))
			return 0;
	while (n < 512 && !pread_u64("/proc/kpageflags", head + n, &f) &&
	       kpf(f, KPF_COMPOUND_TAIL))
		n++;
	return n > 1 ? 63 - __builtin_clzll(n) : 0;
}

/**
 * host_page_info() - the state of the page at @addr in @p, as the host
 * reports it; fields it does not report stay zero (host_field_ok() refuses
 * lines that name them).
 * Context: host handlers.
 * Return: 0, -EFAULT when no VMA covers @addr, or another negative errno.
 */
int host_page_info(struct script *s, struct host_proc *p, unsigned long addr,
		   struct pinmm_page_info *pi)
{
	char path[64];
	uint64_t pm, flags = 0, count = 0;
	int rc = has_vma(p->ag.pid, addr);

	memset(pi, 0, sizeof(*pi));
	if (rc <= 0)
		return rc ? rc : -EFAULT;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", p->ag.pid);
	rc = pread_u64(path, addr / 4096, &pm);
	if (rc)
		return rc;
	pi->present = pm & PM_PRESENT;
	pi->swapped = pm & PM_SWAP;
	pi->soft_dirty = pm & PM_SOFT_DIRTY;
	if (!pi->present)
		return 0;
	pi->pfn = (unsigned long)(pm & PM_PFN_MASK);
	if (!pi->pfn)
		return host_refuse(s, "page", "pagemap hides PFNs from this user (not root?)");
	if (pread_u64("/proc/kpageflags", pi->pfn, &flags) ||
	    pread_u64("/proc/kpagecount", pi->pfn, &count))
		return -EIO;
	pi->zero_page = kpf(flags, KPF_ZERO_PAGE);
	pi->anon = kpf(flags, KPF_ANON);
	pi->ksm = kpf(flags, KPF_KSM);
	pi->huge_mapped = kpf(flags, KPF_THP);
	pi->hugetlb = kpf(flags, KPF_HUGE) && !kpf(flags, KPF_THP);
	pi->shmem = !kpf(flags, KPF_ANON) && kpf(flags, KPF_SWAPBACKED) && !pi->zero_page;
	pi->mapcount = (int)count;
	pi->folio_order = folio_order_of(pi->pfn, flags);
	return 0;
}

/* ---- expect ---------------------------------------------------------------------- */

/*
 * [P] from argv[@i] and the words of `expect page` or `info`, then the page;
 * a page field the host cannot answer is refused first.
 */
static int host_page_line(struct script *s, int argc, char **argv, int i,
			  struct page_args *pa, struct pinmm_page_info *pi)
{
	const char *cmd = strcmp(argv[0], "info") ? "expect page" : "info";
	struct host_proc *p;

	if (host_arg_proc(s, argc, argv, &i, &p) || page_args_parse(s, argc, argv, i, pa))
		return SCRIPT_SYNTAX;
	for (int k = 0; k < pa->nchecks; k++)
		if (host_field_ok(s, cmd, pa->checks[k]))
			return SCRIPT_REFUSED;
	return host_page_info(s, p, (unsigned long)pa->addr, pi);
}

static int host_expect_page(struct script *s, int argc, char **argv)
{
	struct pinmm_page_info pi;
	struct page_args pa;
	int rc = host_page_line(s, argc, argv, 2, &pa, &pi);

	return rc ? rc : script_page_checks(s, &pi, pa.nchecks, pa.checks);
}

/* expect pages PG CHECK...: the host answers only count checks. */
static int host_expect_pages(struct script *s, int argc, char **argv)
{
	struct host_pin *pin = argc > 2 ? host_find_pin(s, argv[2]) : NULL;
	struct pages_check c;

	if (!pin || argc < 4)
		return script_syntax(s, "usage: expect pages PG CHECK...");
	for (int k = 3; k < argc; k++) {
		if (pages_check_parse(s, argv[k], &c))
			return SCRIPT_SYNTAX;
		if (c.what != PAGES_COUNT)
			return host_refuse(s, "expect pages", "only 'count' is observable on the "
					   "host; pin and reference counts are not exported");
	}
	return script_pages_checks(s, argc - 3, argv + 3, NULL, pin->npages);
}

static int host_expect_vmstat(struct script *s, int argc, char **argv)
{
	struct expect_vmstat e;
	long got;

	if (expect_vmstat_parse(s, argc, argv, &e))
		return SCRIPT_SYNTAX;
	got = host_script_vmstat(s, e.name);
	if (got == -ENOENT)
		return host_refuse(s, "expect vmstat", "the host mode offers only "
				   "nr_foll_pin_acquired and nr_foll_pin_released");
	if (got < 0)
		return (int)got;
	expect_vmstat_check(s, &e, got);
	return 0;
}

/* expect mem [P] ADDR OP DATA  /  expect file [P] F OFF OP DATA */
static int host_expect_bytes(struct script *s, int argc, char **argv, bool file)
{
	struct expect_bytes e;
	struct host_proc *p;
	unsigned char *got = NULL;
	long ret;
	int i = 2, rc;

	if (host_arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	rc = expect_bytes_parse(s, argc, argv, i, file, &e);
	if (rc)
		return rc;
	ret = file ? host_pread(s, p, (int)e.where, (long)e.off, e.wlen, &got)
		   : host_load(s, p, (unsigned long)e.where, e.wlen, &got);
	expect_bytes_check(s, &e, file, got, ret);
	free(got);
	return 0;
}

static int host_expect(struct script *s, int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if ((!strcmp(what, "error") && argc >= 4) || (!strcmp(what, "ok") && argc >= 3))
		return script_find_cmd("expect")->fn(s, argc, argv);	/* re-dispatches */
	if (!strcmp(what, "page"))
		return host_expect_page(s, argc, argv);
	if (!strcmp(what, "pages"))
		return host_expect_pages(s, argc, argv);
	if (!strcmp(what, "vmstat"))
		return host_expect_vmstat(s, argc, argv);
	if (!strcmp(what, "mem") || !strcmp(what, "file"))
		return host_expect_bytes(s, argc, argv, what[0] == 'f');
	if (script_find_subcmd(argc, argv))
		return host_refuse(s, "expect", "'expect %s' observes a pinmm-only subsystem", what);
	return script_find_cmd("expect")->fn(s, argc, argv);	/* VALUE OP VALUE */
}

/* info [P] ADDR FIELD -> X */
static int host_info(struct script *s, int argc, char **argv)
{
	struct pinmm_page_info pi;
	struct page_args pa;
	int rc = host_page_line(s, argc, argv, 1, &pa, &pi);

	return script_info_bind(s, rc, &pa, &pi);
}

/* ---- show ------------------------------------------------------------------------- */

/*
 * One row of `show page` under --json on the host: only the fields the
 * host reports (doc/DIFF.md "What a page check reads on the host"); @pi is
 * NULL for an address in no VMA.
 */
static struct json_object *host_page_json(unsigned long a, const struct pinmm_page_info *pi)
{
	struct json_object *o = json_object_new_object();

	jset_int(o, "addr", (long long)a);
	jset_bool(o, "vma", pi != NULL);
	if (!pi)
		return o;
	jset_bool(o, "present", pi->present);
	jset_bool(o, "anon", pi->anon);
	jset_bool(o, "zero_page", pi->zero_page);
	jset_bool(o, "huge_mapped", pi->huge_mapped);
	jset_bool(o, "ksm", pi->ksm);
	jset_bool(o, "shmem", pi->shmem);
	jset_bool(o, "soft_dirty", pi->soft_dirty);
	jset_bool(o, "swapped", pi->swapped);
	jset_int(o, "pfn", (long long)pi->pfn);
	jset_int(o, "mapcount", pi->mapcount);
	jset_int(o, "folio_order", pi->folio_order);
	return o;
}

static int host_show_page(struct script *s, int argc, char **argv)
{
	struct page_args pa;
	struct host_proc *p;
	long long addr, n;
	int i = 2;

	if (host_arg_proc(s, argc, argv, &i, &p) || page_args_parse(s, argc, argv, i, &pa))
		return SCRIPT_SYNTAX;
	struct json_object *rows = script_json_on(s) ? json_object_new_array() : NULL;

	addr = pa.addr;
	n = pa.npages;
	script_out(s, "address         pres anon zero thp ksm shmem sd swap       pfn map ord (host)\n");
	for (long long k = 0; k < n; k++) {
		unsigned long a = (unsigned long)(addr + k * 4096);
		struct pinmm_page_info pi;
		int rc = host_page_info(s, p, a, &pi);

		if (rc && rc != -EFAULT) {
			json_object_put(rows);
			return rc;
		}
		if (rows)
			json_object_array_add(rows, host_page_json(a, rc ? NULL : &pi));
		if (rc == -EFAULT) {
			script_out(s, "%#-15lx  (no vma)\n", a);
			continue;
		}
		script_out(s, "%#-15lx %-4s %-4s %-4s %-3s %-3s %-5s %-2s %-4s %9lx %3d %3d\n", a,
			   pi.present ? "yes" : "-", pi.anon ? "yes" : "-",
			   pi.zero_page ? "yes" : "-", pi.huge_mapped ? "yes" : "-",
			   pi.ksm ? "yes" : "-", pi.shmem ? "yes" : "-",
			   pi.soft_dirty ? "yes" : "-", pi.swapped ? "yes" : "-", pi.pfn,
			   pi.mapcount, pi.folio_order);
	}
	if (rows) {
		struct json_object *d = json_object_new_object();

		jset_int(d, "pid", p->ag.pid);
		jset_bool(d, "host", true);
		jset(d, "pages", rows);
		script_json_show(s, "page", d);
	}
	return 0;
}

static int host_show(struct script *s, int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (!strcmp(what, "page"))
		return host_show_page(s, argc, argv);
	if (!strcmp(what, "vars") && argc == 2)
		return script_find_cmd("show")->fn(s, argc, argv);
	if (!strcmp(what, "vmstat") && argc <= 3) {
		static const char *const names[] = { "nr_foll_pin_acquired", "nr_foll_pin_released" };

		struct json_object *d = script_json_on(s) ? json_object_new_object() : NULL;

		for (int k = 0; k < 2; k++)
			if (argc == 2 || !strncmp(names[k], argv[2], strlen(argv[2]))) {
				long v = host_script_vmstat(s, names[k]);

				script_out(s, "%s %ld\n", names[k], v);
				if (d)
					jset_int(d, names[k], v);
			}
		if (d)
			script_json_show(s, "vmstat", d);
		return 0;
	}
	return host_refuse(s, "show", "'show %s' shows pinmm-internal state", what);
}

/* ---- soft-dirty ------------------------------------------------------------------------ */

/* clear_refs [P] WHAT: written to the process's /proc/PID/clear_refs. */
static int host_clear_refs(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	long long what;
	char path[64], val[32];
	int i = 1, fd, rc = 0;

	if (host_arg_proc(s, argc, argv, &i, &p) || clear_refs_args_parse(s, argc, argv, i, &what))
		return SCRIPT_SYNTAX;
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", p->ag.pid);
	snprintf(val, sizeof(val), "%lld\n", what);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

HOST_CMD("clear_refs", host_clear_refs);
HOST_CMD("expect", host_expect);
HOST_CMD("info", host_info);
HOST_CMD("show", host_show);

/* SPDX-License-Identifier: MIT */
/*
 * Description: GUP conformance, bad input (doc/GUP-SEMANTICS.md §1.3-§1.5,
 * §4.3).  Every exported get/pin entry point is called with illegal flag
 * combinations, NULL arrays, a *locked that is not 1, flags outside the
 * GUP-fast whitelist, overflowing and out-of-range ranges, holes, PROT_NONE
 * and read-only mappings, and must give Linux 6.x's answer: -EINVAL for the
 * get_* family and the *_fast forms, 0 for pin_user_pages{,_remote,_unlocked},
 * -EFAULT/-EOVERFLOW from the range checks, leading-success counts, and no
 * reference or pin left behind.  Public API only.
 */
#include "gup_helpers.h"

/* Every entry point, with the arguments varied by the table below. */
enum ep {
	EP_GUP, EP_GUP_REMOTE, EP_GUP_UNLOCKED, EP_GUP_FAST, EP_GUP_FAST_ONLY,
	EP_PUP, EP_PUP_REMOTE, EP_PUP_UNLOCKED, EP_PUP_FAST, NR_EP
};
static const char *const ep_name[NR_EP] = {
	"get_user_pages", "get_user_pages_remote", "get_user_pages_unlocked",
	"get_user_pages_fast", "get_user_pages_fast_only", "pin_user_pages",
	"pin_user_pages_remote", "pin_user_pages_unlocked", "pin_user_pages_fast",
};

static bool ep_is_pin(enum ep e)
{
	return e >= EP_PUP;
}

/* pin_user_pages, _remote and _unlocked answer invalid arguments with 0. */
static long ep_invalid_answer(enum ep e)
{
	return (e == EP_PUP || e == EP_PUP_REMOTE || e == EP_PUP_UNLOCKED) ? 0 : -EINVAL;
}

static long call_ep(enum ep e, struct pinmm_proc *p, unsigned long start, long n,
		    unsigned int flags, struct page **pages, int *locked)
{
	struct mm_struct *mm = pinmm_proc_mm(p);
	bool was_one = locked && *locked == 1;
	long r;

	switch (e) {
	case EP_GUP:
		return gh_gup(p, start, (unsigned long)n, flags, pages);
	case EP_PUP:
		return gh_pup(p, start, (unsigned long)n, flags, pages);
	case EP_GUP_REMOTE:
	case EP_PUP_REMOTE: {
		/* GUP drops the lock only when *locked was 1 and becomes 0. */
		bool dropped;

		mmap_read_lock(mm);
		if (e == EP_GUP_REMOTE)
			r = get_user_pages_remote(mm, start, (unsigned long)n, flags, pages, locked);
		else
			r = pin_user_pages_remote(mm, start, (unsigned long)n, flags, pages, locked);
		dropped = locked && was_one && !*locked;
		if (!dropped)
			mmap_read_unlock(mm);
		return r;
	}
	case EP_GUP_UNLOCKED:
		return get_user_pages_unlocked(start, (unsigned long)n, pages, flags);
	case EP_PUP_UNLOCKED:
		return pin_user_pages_unlocked(start, (unsigned long)n, pages, flags);
	case EP_GUP_FAST:
		return get_user_pages_fast(start, (int)n, flags, pages);
	case EP_GUP_FAST_ONLY:
		return get_user_pages_fast_only(start, (int)n, flags, pages);
	case EP_PUP_FAST:
		return pin_user_pages_fast(start, (int)n, flags, pages);
	default:
		fail();
	}
	return 0;
}

/* Release what a successful call took. */
static void release(enum ep e, struct page **pages, long n)
{
	for (long i = 0; i < n; i++) {
		if (ep_is_pin(e))
			unpin_user_page(pages[i]);
		else
			put_page(pages[i]);
	}
}

struct snap {
	long acq, rel, unpin_not_pinned;
	int refcount;
};

static struct snap snap(struct pinmm *m, struct pinmm_proc *p, unsigned long addr)
{
	struct snap s = {
		.acq = gh_vm(m, "nr_foll_pin_acquired"),
		.rel = gh_vm(m, "nr_foll_pin_released"),
		.unpin_not_pinned = gh_vm(m, "unpin_not_pinned"),
		.refcount = gh_info(p, addr).refcount,
	};
	return s;
}

static void assert_unchanged(struct pinmm *m, struct pinmm_proc *p, unsigned long addr,
			     const struct snap *a)
{
	struct snap b = snap(m, p, addr);

	assert_int_equal(a->acq, b.acq);
	assert_int_equal(a->rel, b.rel);
	assert_int_equal(a->refcount, b.refcount);
	assert_int_equal(a->unpin_not_pinned, b.unpin_not_pinned);
}

/* §1.3 rules 1, 4, 5, 6, 7 and the *locked rule, for every entry point. */
static void test_illegal_flag_combinations(void **state)
{
	static const unsigned int internal[] = {
		FOLL_TOUCH, FOLL_TRIED, FOLL_REMOTE, FOLL_PIN, FOLL_FAST_ONLY,
		FOLL_UNLOCKABLE, FOLL_MADV_POPULATE,
	};
	struct pinmm *m = gh_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct page *pages[4] = { 0 };
	struct snap s;
	(void)state;

	gh_store(p, a, "data");
	s = snap(m, p, a);
	for (int e = 0; e < NR_EP; e++) {
		long bad = ep_invalid_answer(e);

		/* 1: internal flags from a caller. */
		for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
			unsigned int f = internal[i];

			/* FOLL_PIN to a pin_* call is what it would set anyway;
			 * still illegal from the caller. */
			assert_int_equal(call_ep(e, p, a, 1, f, pages, NULL), bad);
		}
		/* 4: GET and PIN together (FOLL_GET to a pin_* call). */
		if (ep_is_pin(e))
			assert_int_equal(call_ep(e, p, a, 1, FOLL_GET, pages, NULL), bad);
		/* 5: LONGTERM without PIN. */
		if (!ep_is_pin(e))
			assert_int_equal(call_ep(e, p, a, 1, FOLL_LONGTERM, pages, NULL), bad);
		/* 6: a reference wanted but no array. */
		if (ep_is_pin(e) || e == EP_GUP_FAST || e == EP_GUP_FAST_ONLY)
			assert_int_equal(call_ep(e, p, a, 1, 0, NULL, NULL), bad);
		/* 7: LONGTERM with PCI_P2PDMA. */
		if (ep_is_pin(e))
			assert_int_equal(call_ep(e, p, a, 1, FOLL_LONGTERM | FOLL_PCI_P2PDMA,
						 pages, NULL), bad);
		print_message("# %s: invalid args -> %ld\n", ep_name[e], bad);
	}
	/* 3: *locked must be exactly 1 for the remote forms. */
	for (int v = -1; v <= 2; v++) {
		int locked = v;

		if (v == 1)
			continue;
		assert_int_equal(call_ep(EP_GUP_REMOTE, p, a, 1, 0, pages, &locked), -EINVAL);
		locked = v;
		assert_int_equal(call_ep(EP_PUP_REMOTE, p, a, 1, 0, pages, &locked), 0);
	}
	/* Nothing was taken by any of them. */
	assert_unchanged(m, p, a, &s);
	for (int i = 0; i < 4; i++)
		assert_null(pages[i]);
	gh_expect(p, a, "data");
	gh_done(m);
}

/* get_user_pages{,_remote,_unlocked} accept pages == NULL: prefault only. */
static void test_null_pages_prefault(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 8 * PG);
	struct mm_struct *mm = pinmm_proc_mm(p);
	long acq = gh_vm(m, "nr_foll_pin_acquired");
	int locked = 1;
	(void)state;

	assert_false(gh_info(p, a).present);
	assert_int_equal(gh_gup(p, a, 2, FOLL_WRITE, NULL), 2);
	assert_true(gh_info(p, a).present);
	assert_true(gh_info(p, a + PG).writable);
	/* Prefault takes no reference: only the mapping holds the page. */
	assert_int_equal(gh_info(p, a).refcount, 1);

	assert_int_equal(get_user_pages_unlocked(a + 2 * PG, 2, NULL, FOLL_WRITE), 2);
	assert_true(gh_info(p, a + 3 * PG).present);

	mmap_read_lock(mm);
	assert_int_equal(get_user_pages_remote(mm, a + 4 * PG, 2, FOLL_WRITE, NULL, &locked), 2);
	if (locked)
		mmap_read_unlock(mm);
	assert_true(gh_info(p, a + 5 * PG).present);
	assert_int_equal(gh_info(p, a + 5 * PG).refcount, 1);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), acq);
	gh_done(m);
}

/* §1.3: flags outside the GUP-fast whitelist are -EINVAL for the *_fast forms. */
static void test_fast_whitelist(void **state)
{
	static const unsigned int bad[] = {
		FOLL_NOWAIT, FOLL_ANON, FOLL_HWPOISON, FOLL_DUMP, FOLL_SPLIT_PMD,
		FOLL_INTERRUPTIBLE,
	};
	static const unsigned int good[] = {
		FOLL_WRITE, FOLL_FORCE, FOLL_NOFAULT, FOLL_HONOR_NUMA_FAULT,
	};
	struct pinmm *m = gh_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct page *page = NULL;
	struct snap s;
	(void)state;

	test_store8(p, a, 1);
	s = snap(m, p, a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(get_user_pages_fast(a, 1, bad[i], &page), -EINVAL);
		assert_int_equal(get_user_pages_fast_only(a, 1, bad[i], &page), -EINVAL);
		assert_int_equal(pin_user_pages_fast(a, 1, bad[i], &page), -EINVAL);
		assert_int_equal(pin_user_pages_fast(a, 1, bad[i] | FOLL_LONGTERM, &page),
				 -EINVAL);
	}
	assert_null(page);
	assert_unchanged(m, p, a, &s);
	/* The same flags are fine for the slow path (FOLL_ANON on anon memory). */
	assert_int_equal(gh_gup(p, a, 1, FOLL_ANON | FOLL_HWPOISON | FOLL_NOWAIT, &page), 1);
	put_page(page);
	/* And whitelisted flags are fine for the fast path. */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		page = NULL;
		assert_int_equal(pin_user_pages_fast(a, 1, good[i], &page), 1);
		assert_non_null(page);
		unpin_user_page(page);
	}
	assert_unchanged(m, p, a, &(struct snap){ .acq = gh_vm(m, "nr_foll_pin_acquired"),
					      .rel = gh_vm(m, "nr_foll_pin_released"),
					      .refcount = s.refcount });
	gh_done(m);
}

/* §1.3 range checks of the fast variants; §1.5 nr_pages == 0. */
static void test_fast_range_checks(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	const unsigned long top = 0x7ffffffff000UL;	/* TASK_SIZE_MAX */
	struct page *pages[2] = { 0 };
	int locked = 1;
	(void)state;

	/* start + len wraps. */
	assert_int_equal(get_user_pages_fast(~0UL & PAGE_MASK, 2, 0, pages), -EOVERFLOW);
	assert_int_equal(pin_user_pages_fast(~0UL & PAGE_MASK, 2, 0, pages), -EOVERFLOW);
	assert_int_equal(get_user_pages_fast_only(~0UL & PAGE_MASK, 2, 0, pages), -EOVERFLOW);
	/* A negative count is a huge unsigned one: it wraps too. */
	assert_int_equal(get_user_pages_fast(a, -1, 0, pages), -EOVERFLOW);
	assert_int_equal(pin_user_pages_fast(a, -1, 0, pages), -EOVERFLOW);
	assert_int_equal(get_user_pages_fast_only(a, -5, 0, pages), -EOVERFLOW);
	/* Beyond TASK_SIZE_MAX. */
	assert_int_equal(get_user_pages_fast(top - PG, 2, 0, pages), -EFAULT);
	assert_int_equal(pin_user_pages_fast(top - PG, 2, 0, pages), -EFAULT);
	assert_int_equal(get_user_pages_fast_only(top, 1, 0, pages), -EFAULT);
	/* Up to TASK_SIZE_MAX the range is legal; nothing is mapped there. */
	assert_int_equal(pin_user_pages_fast(top - PG, 1, 0, pages), -EFAULT);
	assert_int_equal(get_user_pages_fast_only(top - PG, 1, 0, pages), 0);

	/* nr_pages == 0 is 0 everywhere, even at a bad address. */
	assert_int_equal(gh_gup(p, a, 0, 0, pages), 0);
	assert_int_equal(gh_pup(p, a, 0, 0, pages), 0);
	assert_int_equal(gh_pup(p, 0, 0, FOLL_LONGTERM, pages), 0);
	assert_int_equal(get_user_pages_unlocked(a, 0, pages, 0), 0);
	assert_int_equal(pin_user_pages_unlocked(a, 0, pages, 0), 0);
	assert_int_equal(get_user_pages_fast(a, 0, 0, pages), 0);
	assert_int_equal(get_user_pages_fast_only(a, 0, 0, pages), 0);
	assert_int_equal(pin_user_pages_fast(a, 0, 0, pages), 0);
	mmap_read_lock(pinmm_proc_mm(p));
	assert_int_equal(get_user_pages_remote(pinmm_proc_mm(p), a, 0, 0, pages, &locked), 0);
	assert_int_equal(locked, 1);
	assert_int_equal(pin_user_pages_remote(pinmm_proc_mm(p), a, 0, 0, pages, NULL), 0);
	mmap_read_unlock(pinmm_proc_mm(p));
	assert_null(pages[0]);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), 0);
	gh_done(m);
}

/* §1.5: "0 pages" becomes -EFAULT; holes end the walk with a short count. */
static void test_holes_and_leading_success(void **state)
{
	struct pinmm *m = gh_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct page *pages[4];
	(void)state;

	for (int i = 0; i < 4; i++)
		test_store8(p, a + i * PG, (uint8_t)(i + 1));
	assert_int_equal(pinmm_munmap(p, a + 2 * PG, PG), 0);

	for (int e = 0; e < NR_EP; e++) {
		long r;

		memset(pages, 0, sizeof(pages));
		/* The hole is page 2: two pages, then the walk stops. */
		r = call_ep(e, p, a, 4, 0, pages, NULL);
		if (e == EP_GUP_FAST_ONLY)
			assert_true(r >= 0 && r <= 2);	/* fast only: whatever was there */
		else
			assert_int_equal(r, 2);
		for (long i = 0; i < r; i++) {
			unsigned char *k = kmap_local_page(pages[i]);

			assert_int_equal(k[0], i + 1);
			kunmap_local(k);
		}
		release(e, pages, r);
		/* Starting in the hole: no page at all is an error. */
		r = call_ep(e, p, a + 2 * PG, 2, 0, pages, NULL);
		if (e == EP_GUP_FAST_ONLY)
			assert_int_equal(r, 0);
		else
			assert_int_equal(r, -EFAULT);
		/* A completely unmapped range. */
		r = call_ep(e, p, 0x10000, 1, 0, pages, NULL);
		assert_int_equal(r, e == EP_GUP_FAST_ONLY ? 0 : -EFAULT);
	}
	/* The fast forms never report an error after a partial success even
	 * when the slow remainder fails: populated page 3, hole after it. */
	assert_int_equal(pinmm_munmap(p, a, 2 * PG), 0);
	memset(pages, 0, sizeof(pages));
	assert_int_equal(pin_user_pages_fast(a + 3 * PG, 3, FOLL_WRITE, pages), 1);
	unpin_user_page(pages[0]);
	assert_int_equal(get_user_pages_fast(a + 3 * PG, 3, FOLL_WRITE, pages), 1);
	put_page(pages[0]);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	gh_done(m);
}

/* FOLL_NOFAULT never faults; FOLL_ANON refuses file VMAs (§4.3, §4.4). */
static void test_nofault_and_anon(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *pages[2] = { 0 };
	long f;
	int fd;
	(void)state;

	assert_int_equal(gh_gup(p, a, 1, FOLL_NOFAULT, pages), -EFAULT);
	assert_int_equal(gh_pup(p, a, 1, FOLL_NOFAULT | FOLL_WRITE, pages), -EFAULT);
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_NOFAULT, pages), -EFAULT);
	assert_false(gh_info(p, a).present);
	/* Once populated the same calls succeed. */
	test_store8(p, a, 7);
	assert_int_equal(gh_pup(p, a, 2, FOLL_NOFAULT, pages), 1);
	unpin_user_page(pages[0]);
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_NOFAULT | FOLL_WRITE, pages), 1);
	unpin_user_page(pages[0]);

	/* FOLL_ANON on a shared memfd mapping. */
	fd = pinmm_memfd_create(p, "anon-test", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, (long)PG), 0);
	f = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(f > 0);
	assert_int_equal(gh_gup(p, (unsigned long)f, 1, FOLL_ANON, pages), -EFAULT);
	assert_int_equal(gh_pup(p, (unsigned long)f, 1, FOLL_ANON, pages), -EFAULT);
	assert_int_equal(gh_gup(p, a, 1, FOLL_ANON, pages), 1);
	put_page(pages[0]);
	assert_int_equal(gh_gup(p, (unsigned long)f, 1, 0, pages), 1);
	put_page(pages[0]);
	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

/*
 * VM_IO / VM_PFNMAP (-EFAULT from check_vma_flags) is not tested: there is
 * no public way to create such a mapping in pinmm.
 */

/* §4.3: PROT_NONE needs FOLL_FORCE (and VM_MAYREAD) for a read. */
static void test_prot_none(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *pages[2] = { 0 };
	(void)state;

	gh_store(p, a, "hidden");
	assert_int_equal(pinmm_mprotect(p, a, 2 * PG, PROT_NONE), 0);
	assert_int_equal(gh_gup(p, a, 1, 0, pages), -EFAULT);
	assert_int_equal(gh_pup(p, a, 1, 0, pages), -EFAULT);
	assert_int_equal(gh_pup(p, a, 1, FOLL_WRITE, pages), -EFAULT);
	assert_int_equal(get_user_pages_fast(a, 1, 0, pages), -EFAULT);
	assert_int_equal(pin_user_pages_fast(a, 1, 0, pages), -EFAULT);
	assert_int_equal(get_user_pages_fast_only(a, 1, 0, pages), 0);
	assert_int_equal(pin_user_pages_unlocked(a, 1, pages, 0), -EFAULT);
	assert_null(pages[0]);

	/* ptrace-style forced read: works and sees the data. */
	assert_int_equal(gh_gup(p, a, 1, FOLL_FORCE, pages), 1);
	gh_kexpect(pages[0], 0, "hidden");
	put_page(pages[0]);
	assert_int_equal(gh_pup(p, a, 1, FOLL_FORCE, pages), 1);
	gh_kexpect(pages[0], 0, "hidden");
	unpin_user_page(pages[0]);
	/* GUP-fast cannot decide (protnone) and falls back to the slow path. */
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_FORCE, pages), 1);
	gh_kexpect(pages[0], 0, "hidden");
	unpin_user_page(pages[0]);
	/* Forced read of a never-touched PROT_NONE page. */
	assert_int_equal(gh_gup(p, a + PG, 1, FOLL_FORCE, pages), 1);
	{
		unsigned char *k = kmap_local_page(pages[0]);

		assert_int_equal(k[0], 0);
		kunmap_local(k);
	}
	put_page(pages[0]);
	/* The process itself still faults. */
	assert_int_equal(pinmm_load(p, a, (char[1]){ 0 }, 1), -EFAULT);
	gh_done(m);
}

/* §4.3: forced writes into read-only mappings. */
static void test_force_write(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	struct page *page = NULL;
	char buf[16] = { 0 };
	long priv, shared, ro;
	int fd;
	(void)state;

	fd = pinmm_memfd_create(p, "force", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, (long)PG), 0);
	assert_int_equal(pinmm_pwrite(p, fd, "file", 5, 0), 5);

	/* Read-only private file mapping: a forced write breaks COW. */
	priv = pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(priv > 0);
	gh_expect(p, (unsigned long)priv, "file");
	assert_int_equal(gh_gup(p, (unsigned long)priv, 1, FOLL_WRITE, &page), -EFAULT);
	assert_int_equal(gh_pup(p, (unsigned long)priv, 1, FOLL_WRITE, &page), -EFAULT);
	assert_int_equal(gh_gup(p, (unsigned long)priv, 1, FOLL_WRITE | FOLL_FORCE, &page), 1);
	gh_kexpect(page, 0, "file");
	gh_kstore(page, 0, "poke");
	put_page(page);
	gh_expect(p, (unsigned long)priv, "poke");
	assert_true(gh_info(p, (unsigned long)priv).anon);
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 0), 5);
	assert_string_equal(buf, "file");
	/* Again: now the page is an exclusive anon page; written in place. */
	{
		unsigned long pfn = gh_info(p, (unsigned long)priv).pfn;

		assert_int_equal(gh_pup(p, (unsigned long)priv, 1, FOLL_WRITE | FOLL_FORCE,
					&page), 1);
		assert_int_equal(page_to_pfn(page), pfn);
		gh_kstore(page, 0, "poke2");
		unpin_user_page(page);
		gh_expect(p, (unsigned long)priv, "poke2");
	}
	/* The new PTE stays read-only (maybe_mkwrite): the process still
	 * cannot write there. */
	assert_false(gh_info(p, (unsigned long)priv).writable);
	assert_int_equal(pinmm_store(p, (unsigned long)priv, "x", 1), -EFAULT);
	gh_expect(p, (unsigned long)priv, "poke2");

	/* Read-only shared mapping: forced writes are refused outright. */
	shared = pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(shared > 0);
	assert_int_equal(gh_gup(p, (unsigned long)shared, 1, FOLL_WRITE | FOLL_FORCE, &page),
			 -EFAULT);
	assert_int_equal(gh_pup(p, (unsigned long)shared, 1, FOLL_WRITE | FOLL_FORCE, &page),
			 -EFAULT);
	assert_int_equal(pin_user_pages_fast((unsigned long)shared, 1,
					     FOLL_WRITE | FOLL_FORCE, &page), -EFAULT);
	/* Reads are fine. */
	assert_int_equal(gh_pup(p, (unsigned long)shared, 1, 0, &page), 1);
	gh_kexpect(page, 0, "file");
	unpin_user_page(page);

	/* Read-only anonymous mapping: write pin without FOLL_FORCE fails. */
	ro = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ro > 0);
	gh_store(p, (unsigned long)ro, "anon");
	assert_int_equal(pinmm_mprotect(p, (unsigned long)ro, PG, PROT_READ), 0);
	assert_int_equal(gh_pup(p, (unsigned long)ro, 1, FOLL_WRITE, &page), -EFAULT);
	assert_int_equal(pin_user_pages_fast((unsigned long)ro, 1, FOLL_WRITE, &page), -EFAULT);
	assert_int_equal(get_user_pages_unlocked((unsigned long)ro, 1, &page, FOLL_WRITE),
			 -EFAULT);
	assert_int_equal(gh_pup(p, (unsigned long)ro, 1, 0, &page), 1);
	unpin_user_page(page);

	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_illegal_flag_combinations),
		cmocka_unit_test(test_null_pages_prefault),
		cmocka_unit_test(test_fast_whitelist),
		cmocka_unit_test(test_fast_range_checks),
		cmocka_unit_test(test_holes_and_leading_success),
		cmocka_unit_test(test_nofault_and_anon),
		cmocka_unit_test(test_prot_none),
		cmocka_unit_test(test_force_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

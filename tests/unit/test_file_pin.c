/* SPDX-License-Identifier: MIT */
/*
 * test_file_pin.c - vaddr_pin_pages() and its file_pin records, and the
 * four lease.outcome values, on both pinfs mounts (/data/: page cache,
 * /dax/: fsdax): pins of a file range need an active lease of the pinned
 * process on that file (-EPERM otherwise: no lease, another file's,
 * another process's, a read-only lease for a writable pin); records are
 * listed per process and per file; a lease with records cannot be put;
 * truncate, punch, collapse and insert then wait (wait), fail with
 * ETXTBSY (fail, unbreakable) or revoke and fence (revoke).
 */
#include "dax_helpers.h"

#include <pthread.h>
#include <unistd.h>

#include <pinmm/lease.h>

#define NPG 4

static const char *const mounts[] = { "/data/", "/dax/" };

static struct pinmm *fp_boot(const char *img, const char *outcome, const char *break_ms)
{
	char o[64], b[64], i[160];

	snprintf(o, sizeof(o), "lease.outcome=%s", outcome);
	snprintf(b, sizeof(b), "lease_break_ms=%s", break_ms);
	snprintf(i, sizeof(i), "pinfs.image=%s", img);
	return test_boot("ram=256M", "debug=2", "quiet=1", "pmem=64M", "pinfs.size=8M",
			 "fs.pinned_policy=lease", "dax.truncate_wait_ms=3000", o, b, i, NULL);
}

/* A file of NPG written pages on @mnt, mapped MAP_SHARED read/write. */
static int fp_file(struct pinmm_proc *p, const char *mnt, const char *name, unsigned long *addr)
{
	char path[64], buf[4096];
	long a;
	int fd;

	snprintf(path, sizeof(path), "%s%s", mnt, name);
	fd = pinmm_open(p, path, O_CREAT | O_RDWR, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < NPG; i++) {
		memset(buf, 'a' + i, sizeof(buf));
		assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), (long)i * 4096), 4096);
	}
	a = pinmm_mmap(p, 0, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	*addr = (unsigned long)a;
	return fd;
}

static long fsize(struct pinmm_proc *p, int fd)
{
	return pinmm_fstat_size(p, fd);
}

/*
 * Bad input of vaddr_pin_pages() and the lease rules, on one mount; then a
 * good pin, its listing, the lease that cannot go while it lives, an
 * unpin by the wrong owner (ignored and counted), the owner's descriptor
 * closed (the record keeps the file) and the real unpin.
 */
static void rules_on(const char *img, const char *mnt)
{
	struct pinmm *m = fp_boot(img, "revoke", "2000");
	struct pinmm_proc *q, *p = test_proc(m);
	struct pinmm_lease *l, *lo, *lq, *lro;
	struct pinmm_file_pin_info info[4];
	struct page *pages[NPG];
	unsigned long addr, oaddr;
	struct vaddr_pin vp, bad;
	char path[64];
	int fd, ofd, qfd, rofd, ownfd;

	assert_int_equal(pinmm_proc_create(m, &q), 0);
	fd = fp_file(p, mnt, "f", &addr);
	ofd = fp_file(p, mnt, "other", &oaddr);
	snprintf(path, sizeof(path), "%sf", mnt);
	ownfd = pinmm_open(p, "/tmp/owner", O_CREAT | O_RDWR, 0644);
	vp = (struct vaddr_pin){ .f_owner = pinmm_fget(p, ownfd), .mm = NULL };
	assert_non_null(vp.f_owner);
	assert_null(pinmm_fget(p, 99));
	assert_null(pinmm_fget(NULL, ownfd));

	/* No lease; a lease on another file; a lease of another process. */
	assert_int_equal(vaddr_pin_pages(addr, NPG, FOLL_WRITE, pages, &vp), -EPERM);
	assert_int_equal(pinmm_lease_get(p, ofd, NULL, NULL, &lo), 0);
	assert_int_equal(vaddr_pin_pages(addr, NPG, FOLL_WRITE, pages, &vp), -EPERM);
	qfd = pinmm_open(q, path, O_RDWR, 0);
	assert_int_equal(pinmm_lease_get(q, qfd, NULL, NULL, &lq), 0);
	assert_int_equal(vaddr_pin_pages(addr, NPG, FOLL_WRITE, pages, &vp), -EPERM);
	/* A lease through a read-only descriptor: read-only pins only. */
	rofd = pinmm_open(p, path, O_RDONLY, 0);
	assert_int_equal(pinmm_lease_get(p, rofd, NULL, NULL, &lro), 0);
	assert_int_equal(vaddr_pin_pages(addr, NPG, FOLL_WRITE, pages, &vp), -EPERM);
	assert_int_equal(vaddr_pin_pages(addr, 1, 0, pages, &vp), 1);
	assert_int_equal(pinmm_lease_put(lro), -EBUSY);		/* Kara: pins hold it */
	vaddr_unpin_pages(pages, 1, &vp, false);
	assert_int_equal(pinmm_lease_put(lro), 0);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));

	/* Bad arguments. */
	assert_int_equal(pinmm_lease_get(p, fd, NULL, NULL, &l), 0);
	bad = (struct vaddr_pin){ .f_owner = NULL };
	assert_int_equal(vaddr_pin_pages(addr, NPG, 0, pages, &bad), -EINVAL);
	bad = (struct vaddr_pin){ .f_owner = vp.f_owner, .mm = pinmm_proc_mm(q) };
	assert_int_equal(vaddr_pin_pages(addr, NPG, 0, pages, &bad), -EINVAL);
	assert_int_equal(vaddr_pin_pages(addr + 1, 1, 0, pages, &vp), -EINVAL);
	assert_int_equal(vaddr_pin_pages(addr, 0, 0, pages, &vp), -EINVAL);
	assert_int_equal(vaddr_pin_pages(addr, 1, FOLL_PIN, pages, &vp), -EINVAL);
	assert_int_equal(vaddr_pin_pages(addr, 1, 0, NULL, &vp), -EINVAL);
	assert_int_equal(vaddr_pin_pages(addr, 1, 0, pages, NULL), -EINVAL);
	assert_int_equal(pinmm_file_pins(NULL, -1, NULL, NULL, 0), -EINVAL);
	assert_int_equal(pinmm_file_pins(m, -1, "rel", NULL, 0), -EINVAL);
	assert_int_equal(pinmm_file_pins(m, -1, NULL, NULL, 1), -EINVAL);

	/* The pin and its record. */
	assert_int_equal(vaddr_pin_pages(addr, NPG, FOLL_WRITE, pages, &vp), NPG);
	for (int i = 0; i < NPG; i++)
		assert_true(folio_maybe_dma_pinned(page_folio(pages[i])));
	assert_int_equal(pinmm_file_pins(m, -1, NULL, info, 4), 1);
	assert_int_equal(info[0].pid, pinmm_proc_pid(p));
	assert_int_equal(info[0].addr, addr);
	assert_int_equal(info[0].nr_pages, NPG);
	assert_true(info[0].writable);
	assert_false(info[0].revoked);
	assert_string_equal(info[0].file, path);
	assert_string_equal(info[0].owner, "/tmp/owner");
	assert_int_equal(pinmm_file_pins(m, pinmm_proc_pid(p), path, info, 4), 1);
	assert_int_equal(pinmm_file_pins(m, pinmm_proc_pid(q), NULL, info, 4), 0);
	assert_int_equal(pinmm_file_pins(m, -1, "/data/none", info, 4), 0);
	assert_int_equal(pinmm_lease_put(l), -EBUSY);

	/* The wrong owner's unpin changes nothing; a closed owner fd neither. */
	vaddr_unpin_pages(pages, NPG, &(struct vaddr_pin){ .f_owner = vp.f_owner,
							  .mm = pinmm_proc_mm(q) }, true);
	assert_int_equal(gh_vm(m, "file_pin_unknown_unpins"), 1);
	assert_true(folio_maybe_dma_pinned(page_folio(pages[0])));
	assert_int_equal(pinmm_close(p, ownfd), 0);
	fput(vp.f_owner);	/* our reference: the record still holds one */
	assert_int_equal(pinmm_file_pins(m, -1, NULL, info, 4), 1);
	assert_string_equal(info[0].owner, "/tmp/owner");
	vaddr_unpin_pages(pages, NPG, &vp, true);
	assert_int_equal(pinmm_file_pins(m, -1, NULL, info, 4), 0);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));

	/* The remote form: p's memory pinned from here, under p's lease. */
	vp.f_owner = pinmm_fget(p, fd);
	mmap_read_lock(pinmm_proc_mm(p));
	assert_int_equal(vaddr_pin_pages_remote(pinmm_proc_mm(p), addr, NPG, FOLL_WRITE, pages,
						NULL, &vp), NPG);
	mmap_read_unlock(pinmm_proc_mm(p));
	assert_int_equal(pinmm_file_pins(m, pinmm_proc_pid(p), path, info, 4), 1);
	assert_int_equal(pinmm_lease_put(l), -EBUSY);
	vaddr_unpin_pages(pages, NPG, &(struct vaddr_pin){ .f_owner = vp.f_owner }, false);
	assert_int_equal(pinmm_file_pins(m, -1, NULL, info, 4), 0);
	fput(vp.f_owner);
	assert_int_equal(pinmm_lease_put(l), 0);
	assert_int_equal(pinmm_lease_put(lo), 0);
	assert_int_equal(pinmm_lease_put(lq), 0);

	/* Anonymous memory needs no lease; it is listed without a file. */
	vp.f_owner = pinmm_fget(p, fd);
	oaddr = test_mmap_anon(p, PG);
	test_store8(p, oaddr, 1);
	assert_int_equal(vaddr_pin_pages(oaddr, 1, FOLL_WRITE, pages, &vp), 1);
	assert_int_equal(pinmm_file_pins(m, -1, NULL, info, 4), 1);
	assert_string_equal(info[0].file, "");
	vaddr_unpin_pages(pages, 1, &vp, true);
	fput(vp.f_owner);

	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, ofd), 0);
	assert_int_equal(pinmm_close(p, rofd), 0);
	assert_int_equal(pinmm_close(q, qfd), 0);
	test_shutdown_clean(m);
}

static void test_file_pin_rules_data(void **state)
{
	rules_on(((struct test_imgdir *)*state)->img, mounts[0]);
}

static void test_file_pin_rules_dax(void **state)
{
	rules_on(((struct test_imgdir *)*state)->img, mounts[1]);
}

/* The records listed, oldest first: their first address and length. */
static void expect_records(struct pinmm *m, int n, const unsigned long *addr,
			   const unsigned long *nr)
{
	struct pinmm_file_pin_info info[8];

	assert_int_equal(pinmm_file_pins(m, -1, NULL, info, 8), n);
	for (int k = 0; k < n; k++) {
		assert_int_equal(info[k].addr, addr[k]);
		assert_int_equal(info[k].nr_pages, nr[k]);
	}
}

/*
 * vaddr_unpin_pages() of part of a vaddr_pin_pages() call: the head, the
 * tail, the middle (the record splits in two), then pages of two records
 * in one call; each time the listing shows exactly what is still pinned,
 * the lease counts the records and cannot go until the last one does.
 */
static void partial_on(const char *img, const char *mnt)
{
	struct pinmm *m = fp_boot(img, "revoke", "2000");
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_lease_info li;
	struct page *pages[NPG], *more[NPG], *two[2];
	struct pinmm_lease *l;
	struct vaddr_pin vp;
	unsigned long addr, aaddr;
	int fd;

	fd = fp_file(p, mnt, "part", &addr);
	vp = (struct vaddr_pin){ .f_owner = pinmm_fget(p, fd) };
	assert_int_equal(pinmm_lease_get(p, fd, NULL, NULL, &l), 0);
	assert_int_equal(vaddr_pin_pages(addr, NPG, FOLL_WRITE, pages, &vp), NPG);

	/* The head. */
	vaddr_unpin_pages(pages, 1, &vp, true);
	assert_false(folio_maybe_dma_pinned(page_folio(pages[0])));
	assert_true(folio_maybe_dma_pinned(page_folio(pages[1])));
	expect_records(m, 1, (unsigned long[]){ addr + PG }, (unsigned long[]){ 3 });
	/* The tail. */
	vaddr_unpin_pages(&pages[3], 1, &vp, true);
	assert_false(folio_maybe_dma_pinned(page_folio(pages[3])));
	expect_records(m, 1, (unsigned long[]){ addr + PG }, (unsigned long[]){ 2 });
	/* A page no longer pinned: nothing changes, counted. */
	vaddr_unpin_pages(pages, 1, &vp, true);
	assert_int_equal(gh_vm(m, "file_pin_unknown_unpins"), 1);
	expect_records(m, 1, (unsigned long[]){ addr + PG }, (unsigned long[]){ 2 });
	vaddr_unpin_pages(&pages[1], 2, &vp, true);
	expect_records(m, 0, NULL, NULL);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));

	/* The middle: two records, both holding the lease. */
	assert_int_equal(vaddr_pin_pages(addr, NPG, FOLL_WRITE, pages, &vp), NPG);
	vaddr_unpin_pages(&pages[1], 2, &vp, true);
	assert_false(folio_maybe_dma_pinned(page_folio(pages[1])));
	assert_false(folio_maybe_dma_pinned(page_folio(pages[2])));
	expect_records(m, 2, (unsigned long[]){ addr, addr + 3 * PG }, (unsigned long[]){ 1, 1 });
	assert_int_equal(pinmm_lease_info(l, &li), 0);
	assert_int_equal(li.file_pins, 2);
	assert_int_equal(pinmm_lease_put(l), -EBUSY);
	vaddr_unpin_pages(&pages[3], 1, &vp, true);
	assert_int_equal(pinmm_lease_put(l), -EBUSY);
	vaddr_unpin_pages(&pages[0], 1, &vp, true);
	assert_int_equal(pinmm_lease_info(l, &li), 0);
	assert_int_equal(li.file_pins, 0);

	/* Pages of two records in one call: anonymous memory, no lease. */
	assert_int_equal(vaddr_pin_pages(addr, NPG, FOLL_WRITE, pages, &vp), NPG);
	aaddr = test_mmap_anon(p, NPG * PG);
	for (int i = 0; i < NPG; i++)
		test_store8(p, aaddr + (unsigned long)i * PG, 1);
	assert_int_equal(vaddr_pin_pages(aaddr, NPG, FOLL_WRITE, more, &vp), NPG);
	two[0] = pages[3];
	two[1] = more[0];
	vaddr_unpin_pages(two, 2, &vp, true);
	expect_records(m, 2, (unsigned long[]){ addr, aaddr + PG }, (unsigned long[]){ 3, 3 });
	vaddr_unpin_pages(pages, 3, &vp, true);
	vaddr_unpin_pages(&more[1], 3, &vp, true);
	expect_records(m, 0, NULL, NULL);
	assert_int_equal(gh_vm(m, "file_pin_unknown_unpins"), 1);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));

	assert_int_equal(pinmm_lease_put(l), 0);
	fput(vp.f_owner);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_file_pin_partial_data(void **state)
{
	partial_on(((struct test_imgdir *)*state)->img, mounts[0]);
}

static void test_file_pin_partial_dax(void **state)
{
	partial_on(((struct test_imgdir *)*state)->img, mounts[1]);
}

/* A holder that waits for the break event, then releases after @delay_ms. */
struct holder {
	struct pinmm_lease *l;
	struct page **pages;
	struct vaddr_pin *vp;
	int delay_ms;
	int ok;				/* 1: released in time; -1: no event */
};

static void *holder_thread(void *arg)
{
	struct holder *h = arg;
	struct timespec d = { 0, h->delay_ms * 1000000L };

	int waited = pinmm_lease_wait_break(h->l, TEST_WAIT_MS);

	nanosleep(&d, NULL);
	vaddr_unpin_pages(h->pages, NPG, h->vp, true);	/* even late: no hang */
	h->ok = waited ? -1 : pinmm_lease_put(h->l) == 0 ? 1 : 0;
	return NULL;
}

/* What changes the layout of the pinned file. */
enum layout_op { OP_TRUNCATE, OP_PUNCH, OP_COLLAPSE, OP_INSERT };
static const char *const op_why[] = { "truncate", "hole punch", "collapse range",
				      "insert range" };

static int layout_op(struct pinmm_proc *p, int fd, enum layout_op op)
{
	switch (op) {
	case OP_PUNCH:
		return pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG,
				       2 * PG);
	case OP_COLLAPSE:
		return pinmm_fallocate(p, fd, FALLOC_FL_COLLAPSE_RANGE, PG, PG);
	case OP_INSERT:
		return pinmm_fallocate(p, fd, FALLOC_FL_INSERT_RANGE, PG, PG);
	default:
		return pinmm_ftruncate(p, fd, PG);
	}
}

/* Truncate, punch, collapse or insert (@op) the pinned file under @outcome, on @mnt. */
static void outcome_on(const char *img, const char *mnt, const char *outcome, enum layout_op op)
{
	struct pinmm *m = fp_boot(img, outcome, "100");
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_file_pin_info fpi;
	struct pinmm_lease_info li;
	struct page *pages[NPG];
	struct pinmm_lease *l;
	struct holder h;
	struct vaddr_pin vp;
	unsigned long addr;
	pthread_t t;
	double t0, ms;
	int fd, r;

	fd = fp_file(p, mnt, "o", &addr);
	vp = (struct vaddr_pin){ .f_owner = pinmm_fget(p, fd) };
	assert_int_equal(pinmm_lease_get(p, fd, NULL, NULL, &l), 0);
	assert_int_equal(vaddr_pin_pages(addr, NPG, FOLL_WRITE, pages, &vp), NPG);
	h = (struct holder){ .l = l, .pages = pages, .vp = &vp, .delay_ms = 50 };
	if (!strcmp(outcome, "wait"))
		assert_int_equal(pthread_create(&t, NULL, holder_thread, &h), 0);

	t0 = now_ms();
	r = layout_op(p, fd, op);
	ms = now_ms() - t0;
	/* Under wait the holder has put (freed) the lease by now. */
	if (strcmp(outcome, "wait"))
		assert_int_equal(pinmm_lease_info(l, &li), 0);

	if (!strcmp(outcome, "wait")) {
		TEST_JOIN(t, "holder");
		assert_int_equal(h.ok, 1);
		assert_int_equal(r, 0);
		assert_true(ms >= 50);		/* the stall: the holder's delay */
		assert_true(gh_vm(m, "lease_break_stall_ns") >= 50 * 1000000L);
		assert_int_equal(gh_vm(m, "lease_revocations"), 0);
		l = NULL;
	} else if (!strcmp(outcome, "fail")) {
		assert_int_equal(r, -ETXTBSY);
		assert_true(ms >= 100);		/* the holder had its notice and deadline */
		assert_int_equal(li.state, PINMM_LEASE_ACTIVE);
		assert_int_equal(li.breaks, 1);
		assert_true(li.broken_ns > 0);
		assert_int_equal(li.etxtbsy, 1);
		assert_string_equal(li.why, op_why[op]);
		assert_int_equal(gh_vm(m, "lease_etxtbsy"), 1);
		assert_int_equal(fsize(p, fd), NPG * (long)PG);	/* nothing changed */
		assert_int_equal(test_load8(p, addr + PG), 'b');
	} else if (!strcmp(outcome, "unbreakable")) {
		assert_int_equal(r, -ETXTBSY);
		assert_true(ms < 100);		/* at once, no notice */
		assert_int_equal(li.breaks, 0);
		assert_int_equal(li.etxtbsy, 1);
		assert_int_equal(gh_vm(m, "lease_breaks"), 0);
		assert_int_equal(fsize(p, fd), NPG * (long)PG);
		assert_int_equal(test_load8(p, addr + PG), 'b');
	} else {	/* revoke */
		char dev[8] = "device";

		assert_int_equal(r, 0);
		assert_true(ms >= 100);
		assert_int_equal(li.state, PINMM_LEASE_REVOKED);
		assert_true(li.revoked_ns >= li.broken_ns + 100 * 1000000ull);
		assert_int_equal(li.file_pins, 0);		/* detached */
		assert_int_equal(pinmm_file_pins(m, -1, NULL, &fpi, 1), 1);
		assert_true(fpi.revoked);
		/* The device access through the revoked pin is refused, counted. */
		assert_int_equal(pinmm_dma_write(pages[1], 0, dev, sizeof(dev)), -EPERM);
		assert_int_equal(gh_vm(m, "lease_fenced_writes"), 1);
		/* A second truncate does not break (nor revoke) it again. */
		assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
		assert_int_equal(gh_vm(m, "lease_revocations"), 1);
		assert_int_equal(pinmm_lease_put(l), 0);	/* no record attached now */
		l = NULL;
	}
	if (h.ok != 1)
		vaddr_unpin_pages(pages, NPG, &vp, true);
	if (l)
		assert_int_equal(pinmm_lease_put(l), 0);
	assert_int_equal(pinmm_file_pins(m, -1, NULL, &fpi, 1), 0);
	fput(vp.f_owner);
	/* With no lease left the layout changes freely. */
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_int_equal(pinmm_munmap(p, addr, NPG * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	test_shutdown_clean(m);
}

#define OUTCOME_TEST(o, what, OP)						\
static void test_##o##_##what##_data(void **s)				\
{ outcome_on(((struct test_imgdir *)*s)->img, mounts[0], #o, OP); }	\
static void test_##o##_##what##_dax(void **s)				\
{ outcome_on(((struct test_imgdir *)*s)->img, mounts[1], #o, OP); }
#define OUTCOME_TESTS(o)							\
	OUTCOME_TEST(o, truncate, OP_TRUNCATE)					\
	OUTCOME_TEST(o, punch, OP_PUNCH)					\
	OUTCOME_TEST(o, collapse, OP_COLLAPSE)					\
	OUTCOME_TEST(o, insert, OP_INSERT)

OUTCOME_TESTS(wait)
OUTCOME_TESTS(fail)
OUTCOME_TESTS(revoke)
OUTCOME_TESTS(unbreakable)

#define T(f) cmocka_unit_test_setup_teardown(f, test_imgdir_setup, test_imgdir_teardown)
#define OUTCOME_T(o) T(test_##o##_truncate_data), T(test_##o##_truncate_dax), \
		     T(test_##o##_punch_data), T(test_##o##_punch_dax), \
		     T(test_##o##_collapse_data), T(test_##o##_collapse_dax), \
		     T(test_##o##_insert_data), T(test_##o##_insert_dax)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_file_pin_rules_data),
		T(test_file_pin_rules_dax),
		T(test_file_pin_partial_data),
		T(test_file_pin_partial_dax),
		OUTCOME_T(wait),
		OUTCOME_T(fail),
		OUTCOME_T(revoke),
		OUTCOME_T(unbreakable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

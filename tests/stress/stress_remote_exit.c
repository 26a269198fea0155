/* SPDX-License-Identifier: MIT */
/*
 * stress_remote_exit.c - remote pinning racing the exit (and the freeing)
 * of the target process.
 *
 * An exiter thread makes a process, fills its memory with the round's
 * pattern, hands each pinner a reference (pinmm_proc_get()) on it, exits it
 * after a random delay and releases its own handle.  Each pinner, with
 * only its reference, loops: pinmm_mmget(); mmap_read_lock();
 * pin_user_pages_remote(); check the pattern through the pins; unpin;
 * pinmm_mmput() - until pinmm_mmget() answers -ESRCH; then it releases its
 * reference, which may be the last and free the process while another
 * pinner's mm reference still keeps the address space.  Every call must
 * return the whole range or -ESRCH; ASan/TSan see no use of a freed process
 * or mm.  The races happened: pins succeeded, pinners met the exit, and
 * some pins were taken through an mm reference that outlived the exit.
 * At the end the audit is clean, the pins balance, shutdown is clean.
 *
 * Duration: PINMM_STRESS_SECONDS (default 5); seed: PINMM_SEED.
 */
#include <pinmm/linux.h>
#include "stress_common.h"

#define NR_PINNERS	2
#define NPAGES		4
#define PG		4096UL

struct ticket {
	struct pinmm_proc *p;	/* one reference, the pinner's to release */
	unsigned long addr;
	long seq;
};

struct remote_exit {
	struct stress_start st;
	struct pinmm *m;
	uint64_t seed;
	struct ticket *_Atomic slot[NR_PINNERS];
	_Atomic long exit_done;		/* seq of the last process whose exit returned */
	_Atomic long ok;		/* remote pins of the whole range */
	_Atomic long met_exit;		/* pinmm_mmget() answered -ESRCH */
	_Atomic long outlived;		/* pins through an mm whose process had exited */
	_Atomic long rounds;
};

struct pinner {
	struct remote_exit *r;
	int idx;
};

static void pin_round(struct remote_exit *r, struct ticket *t)
{
	struct page *pages[NPAGES];
	struct mm_struct *mm;

	for (;;) {
		int err = pinmm_mmget(t->p, &mm);
		long n;

		if (err == -ESRCH) {
			atomic_fetch_add(&r->met_exit, 1);
			return;
		}
		if (!stress_check(err == 0, "pinmm_mmget: %d", err))
			return;
		mmap_read_lock(mm);
		n = pin_user_pages_remote(mm, t->addr, NPAGES, FOLL_WRITE, pages, NULL);
		mmap_read_unlock(mm);
		if (stress_check(n == NPAGES, "pin_user_pages_remote: %ld", n)) {
			for (int i = 0; i < NPAGES; i++) {
				unsigned char b = *(unsigned char *)kmap_local_page(pages[i]);

				stress_check(b == (unsigned char)t->seq, "page %d: %#x, want %#x",
					     i, b, (unsigned char)t->seq);
			}
			unpin_user_pages(pages, NPAGES);
			atomic_fetch_add(&r->ok, 1);
			if (atomic_load(&r->exit_done) >= t->seq)
				atomic_fetch_add(&r->outlived, 1);
		} else if (n > 0) {
			unpin_user_pages(pages, (unsigned long)n);
		}
		pinmm_mmput(mm);
		if (stress_should_stop(&r->st))
			return;
	}
}

static void *pinner_thread(void *arg)
{
	struct pinner *pn = arg;
	struct remote_exit *r = pn->r;

	while (!stress_should_stop(&r->st)) {
		struct ticket *t = atomic_exchange(&r->slot[pn->idx], NULL);

		if (!t) {
			sched_yield();
			continue;
		}
		pin_round(r, t);
		pinmm_proc_put(t->p);	/* may be the last reference */
		free(t);
	}
	return NULL;
}

static void *exiter_thread(void *arg)
{
	struct remote_exit *r = arg;
	struct stress_rng rng;

	stress_rng_init(&rng, r->seed, NR_PINNERS);
	for (long seq = 1; !stress_should_stop(&r->st); seq++) {
		unsigned char fill[NPAGES * PG];
		struct pinmm_proc *p;
		long addr;
		double exit_at;

		if (!stress_check(pinmm_proc_create(r->m, &p) == 0, "pinmm_proc_create"))
			break;
		addr = pinmm_mmap(p, 0, NPAGES * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		stress_check(addr > 0, "mmap: %ld", addr);
		memset(fill, (unsigned char)seq, sizeof(fill));
		stress_check(pinmm_store(p, (unsigned long)addr, fill, sizeof(fill)) ==
			     (long)sizeof(fill), "store");
		for (int i = 0; i < NR_PINNERS; i++) {
			struct ticket *t = malloc(sizeof(*t)), *old;

			if (!stress_check(t != NULL, "malloc"))
				break;
			*t = (struct ticket){ .p = pinmm_proc_get(p), .addr = (unsigned long)addr,
					      .seq = seq };
			old = atomic_exchange(&r->slot[i], t);
			if (old) {		/* the pinner did not take it */
				pinmm_proc_put(old->p);
				free(old);
			}
		}
		/* Exit after 0..300 us: before, during and after the first pins. */
		exit_at = stress_now() + (double)stress_below(&rng, 300) * 1e-6;
		while (stress_now() < exit_at)
			;
		stress_check(pinmm_exit(p) == 0, "pinmm_exit");
		atomic_store(&r->exit_done, seq);
		pinmm_proc_put(p);
		atomic_fetch_add(&r->rounds, 1);
	}
	return NULL;
}

static void test_remote_exit(void **state)
{
	struct remote_exit *r = calloc(1, sizeof(*r));
	struct pinner pn[NR_PINNERS];
	pthread_t tids[NR_PINNERS + 1];
	char seedbuf[32];
	long acquired, released;

	(void)state;
	assert_non_null(r);
	r->seed = stress_seed("remote_exit");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	r->m = test_boot("ram=256M", "debug=1", "quiet=1", seedbuf, NULL);
	stress_start_init(&r->st, 1);
	r->st.deadline = stress_now() + stress_seconds() + STRESS_EXTRA_SECONDS;
	for (int i = 0; i < NR_PINNERS; i++) {
		pn[i] = (struct pinner){ .r = r, .idx = i };
		assert_int_equal(pthread_create(&tids[i], NULL, pinner_thread, &pn[i]), 0);
	}
	assert_int_equal(pthread_create(&tids[NR_PINNERS], NULL, exiter_thread, r), 0);
	{
		const struct stress_event ev[] = {
			{ "remote pins of the whole range", &r->ok, NULL },
			{ "pinners that met the exit (-ESRCH)", &r->met_exit, NULL },
			{ "pins through an mm that outlived its process's exit",
			  &r->outlived, NULL },
		};

		stress_run(&r->st, stress_seconds(), tids, NR_PINNERS + 1, ev, ARRAY_SIZE(ev));
	}
	for (int i = 0; i < NR_PINNERS; i++) {
		struct ticket *t = atomic_exchange(&r->slot[i], NULL);

		if (t) {
			pinmm_proc_put(t->p);
			free(t);
		}
	}
	printf("# remote_exit: %ld rounds, %ld pins, %ld met the exit, %ld outlived it\n",
	       atomic_load(&r->rounds), atomic_load(&r->ok), atomic_load(&r->met_exit),
	       atomic_load(&r->outlived));
	acquired = pinmm_vmstat(r->m, "nr_foll_pin_acquired");
	released = pinmm_vmstat(r->m, "nr_foll_pin_released");
	stress_check(acquired == released, "pins %ld != %ld", acquired, released);
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit()");
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	free(r);
	assert_int_equal(atomic_load(&stress_violations), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * torture.h - shared state of `pinmm torture` (doc/TORTURE.md).
 *
 * torture_cmd.c owns the machine, the options, the checkpoint barrier, the
 * chaos thread and the summary; torture_ops.c owns what one worker thread
 * does: its processes, regions, pinfs file, held pins and the host-side
 * shadow copies that every load and pread is compared with.
 *
 * Counters are written by one thread and read by the progress line and the
 * summary from others, so every access goes through the tt_* atomics below.
 */
#ifndef PINMM_TORTURE_H
#define PINMM_TORTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <pinmm/pinmm.h>
#include <pinmm/linux.h>

#define TT_REG_LEN	(2UL << 20)	/* anon region of a worker: one THP */
#define TT_FILE_LEN	(256UL << 10)	/* its pinfs file and MAP_SHARED map */
#define TT_MAX_LPINS	16		/* long-term pins one worker holds */
#define TT_NERR		140		/* errno values counted per op */

/* Operation types: worker ops first, then the chaos thread's. */
enum tt_op {
	TO_LOAD, TO_STORE, TO_FORK, TO_GUP_FAST, TO_GUP_SLOW, TO_PIN_FAST,
	TO_PIN_SLOW, TO_PIN_LONG, TO_DMA_WRITE, TO_UNPIN, TO_MUNMAP,
	TO_MPROTECT, TO_DONTNEED, TO_PWRITE, TO_PREAD, TO_FMAP, TO_TRUNCATE,
	TO_PUNCH, TO_FSYNC, TO_DIO_READ, TO_DIO_WRITE, TO_RDMA_MR, TO_RDMA_ODP,
	TO_NR_WORKER,
	TO_MIGRATE = TO_NR_WORKER, TO_SPLIT_THP, TO_COMPACT, TO_RECLAIM,
	TO_SYNC, TO_DROP_CACHES, TO_AUDIT,
	TO_NR
};
extern const char *const tt_op_name[TO_NR];

struct tt_stat {
	long n;			/* attempts */
	long err[TT_NERR];	/* failures by errno (last slot: larger ones) */
};

/* One long-term FOLL_WRITE pin a worker holds across operations. */
struct tt_lpin {
	struct page *page;
	unsigned long addr;	/* where it was pinned */
	bool attached;		/* still the page mapped at @addr */
};

struct torture;

struct tt_worker {
	struct torture *t;
	int id;
	uint64_t rng;
	struct pinmm_proc *p;		/* published for the chaos thread */
	unsigned long base;		/* anon region, TT_REG_LEN, 2M aligned */
	unsigned long fbase;		/* MAP_SHARED view of the file */
	unsigned char *shadow;		/* what the anon region must hold */
	unsigned char *fshadow;		/* what the file must hold */
	unsigned char *buf, *buf2;	/* scratch, TT_REG_LEN each */
	int fd, dfd;			/* the file, and an O_DIRECT descriptor */
	int pd;				/* RDMA protection domain */
	uint32_t odp_lkey, odp_rkey;	/* ODP region over the anon region */
	uint64_t odp_iova;
	struct tt_lpin lpins[TT_MAX_LPINS];
	int nlpins;			/* read by the chaos thread at checkpoints */
	const char *cur_op;		/* what the worker is doing (stuck report) */
	bool parked;			/* at the checkpoint barrier */
	bool done;			/* finished and torn down */
	bool setup_ok;
	struct tt_stat st[TO_NR_WORKER];
	const char *last[TT_REG_LEN / 4096];	/* op that last wrote each page */
	const char *flast[TT_FILE_LEN / 4096];	/* ... each page of the file */
	pthread_t tid;
};

struct torture {
	struct pinmm *m;
	int nthreads;
	uint64_t seed;
	long duration_ms;
	bool quiet, json, tty;
	struct tt_worker *w;

	/* checkpoint barrier, see torture_cmd.c */
	pthread_mutex_t lk;
	pthread_cond_t cv;
	bool ckpt_req;
	int parked;
	bool stop_chaos, stop_workers;
	bool chaos_done;

	struct tt_stat chaos_st[TO_NR - TO_NR_WORKER];
	long checkpoints;
	long violations;
	long rss_first, rss_last, rss_max, rss_base;
	long heap_first, heap_last, heap_max, heap_base;	/* checkpoint thread only */
	pthread_mutex_t report_lk;	/* one violation message at a time */
};

/* Relaxed atomics: counters and flags read from other threads. */
#define tt_get(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define tt_set(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define tt_add(p, v)	__atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

uint64_t tt_rand(uint64_t *s);
static inline unsigned long tt_below(uint64_t *s, unsigned long n)
{
	return n ? tt_rand(s) % n : 0;
}
void tt_count(struct tt_stat *st, long rc);
void tt_count_err(struct tt_stat *st, long rc);
void tt_violation(struct torture *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* torture_ops.c */
int tt_worker_setup(struct tt_worker *w);
void tt_worker_op(struct tt_worker *w);
void tt_worker_teardown(struct tt_worker *w);

#endif /* PINMM_TORTURE_H */

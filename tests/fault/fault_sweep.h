/* SPDX-License-Identifier: MIT */
/*
 * fault_sweep.h - what the fail-nth sweep (fault_sweep.c) and its
 * workloads (fault_workloads.c) share: one run's record, the STEP() of a
 * workload, boot(), the workload table, and the set-up helpers that hold
 * injection off.
 */
#ifndef PINMM_FAULT_SWEEP_H
#define PINMM_FAULT_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include <pinmm/pinmm.h>

/* One run: the machine (NULL when boot failed) and what the workload saw. */
struct run {
	struct pinmm *m;
	const char *img;	/* pinfs image, or NULL */
	int first_err;		/* first error a call returned (0: none) */
	const char *where;	/* which step returned it */
	/* pinfs: what a completed fsync acknowledged in /data/f */
	bool acked;
	unsigned char acked_byte;
	long acked_len;
};

int run_err(struct run *r, const char *where, long rc);

/* Run @call; on an error record it and leave the workload (label out). */
#define STEP(r, what, call) do {				\
		long __rc = (call);				\
		if (__rc < 0) {					\
			run_err((r), (what), __rc);		\
			goto out;				\
		}						\
	} while (0)

/* Boot r->m from "ram=64M quiet=1", the KEY, VALUE pairs (NULL-ended) and r->img. */
int boot(struct run *r, const char *kv, ...);

struct workload {
	const char *name;
	void (*fn)(struct run *r);
	bool pinfs;		/* uses an image; check /data/f's acknowledged bytes */
};

extern const struct workload workloads[];
/* fault_workloads_folio.c: large folios and collapse, hugetlb, file pins. */
void wl_thp_collapse(struct run *r);
void wl_hugetlb(struct run *r);
void wl_file_pin(struct run *r);
extern const size_t nr_workloads;

/* Data a workload found lost (a load that succeeded read the wrong byte). */
extern long data_lost;

/* The site the site phase armed (fail.site), or NULL during the fail-nth sweep. */
extern const char *armed_site;

/* Hold the calling thread's fail-nth countdown over set-up; give it back. */
long injection_hold(void);
void injection_release(long held);

#endif /* PINMM_FAULT_SWEEP_H */

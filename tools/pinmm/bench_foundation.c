/* SPDX-License-Identifier: MIT */
/*
 * bench_foundation.c - F1-F5 of `pinmm bench`, the "Foundation" targets:
 * boot and shutdown of a 16 GiB machine, the host memory it costs, the
 * size of the memmap, and faulting in 1 GiB next to the host kernel doing
 * the same (a fresh anonymous mapping, one store per page).
 *
 * F3 and F4 take the memmap size and the frame count from
 * pinmm_debug_memmap() (<pinmm/debug.h>, the introspection header): the
 * tool links the public library only.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <pinmm/debug.h>

#include "tool.h"
#include "bench.h"

/* F1-F4: boot and shut down a 16 GiB machine. */
int std_boot(void)
{
	double ms[8];
	long rss_up = 0, rss_after = 0;
	size_t memmap_bytes = 0, mem_bytes = 0;
	unsigned long nr_pages = 0;
	struct row *w;
	int n = 0;

	for (int k = 0; k < 6; k++) {		/* k = 0: warm-up */
		struct pinmm_config cfg;
		struct pinmm_memmap_info mi;
		struct pinmm *m;
		long rss0 = host_rss_bytes(), rss1, rss2;
		uint64_t t0;
		int ret;

		pinmm_config_default(&cfg);
		pinmm_config_set(&cfg, "ram", "16G");
		pinmm_config_set(&cfg, "debug", "0");
		pinmm_config_set(&cfg, "thp", "never");
		t0 = bench_now_ns();
		ret = pinmm_boot(&cfg, &m);
		if (ret) {
			fprintf(stderr, "pinmm: bench: boot of 16 GiB failed: %s\n", pinmm_strerror(ret));
			return EXIT_FAIL;
		}
		rss1 = host_rss_bytes();
		ret = pinmm_debug_memmap(m, &mi);
		if (ret) {
			pinmm_shutdown(m);
			fprintf(stderr, "pinmm: bench: memmap size: %s\n", pinmm_strerror(ret));
			return EXIT_FAIL;
		}
		memmap_bytes = mi.memmap_bytes;
		mem_bytes = mi.mem_bytes;
		nr_pages = mi.nr_pages;
		ret = pinmm_shutdown(m);
		if (k)
			ms[n++] = (double)(bench_now_ns() - t0) / 1e6;
		rss2 = host_rss_bytes();
		if (ret) {
			fprintf(stderr, "pinmm: bench: shutdown of 16 GiB failed: %s\n", pinmm_strerror(ret));
			return EXIT_FAIL;
		}
		/* The statm read after boot (~10 us) is inside the timed part. */
		if (rss1 - rss0 > rss_up)
			rss_up = rss1 - rss0;
		if (rss2 - rss0 > rss_after)
			rss_after = rss2 - rss0;
	}
	w = add_row("F1", "boot+shutdown, 16 GiB machine", "ms", "< 50", bench_median(ms, n));
	w->verdict = w->measured < 50 ? V_MET : V_MISSED;
	snprintf(w->note, sizeof(w->note), "median of %d, best %.2f ms", n, bench_min(ms, n));
	w = add_row("F2", "host RSS increase, 16 GiB booted", "MiB", "< 300", (double)rss_up / MiB);
	w->verdict = w->measured < 300 ? V_MET : V_MISSED;
	snprintf(w->note, sizeof(w->note), "/proc/self/statm; %.1f MiB still resident after shutdown",
		 (double)rss_after / MiB);
	w = add_row("F3", "struct page size (memmap / frames)", "bytes", "<= 64 (Linux)",
		    (double)memmap_bytes / (double)nr_pages);
	/* A constant of Linux, not a host measurement: no host column, no ratio. */
	w->verdict = w->measured <= 64 ? V_MET : V_MISSED;
	snprintf(w->note, sizeof(w->note), "memmap_bytes %zu for %lu frames; Linux x86-64: 64",
		 memmap_bytes, nr_pages);
	w = add_row("F4", "memmap as % of simulated memory", "%", "<= 1.6",
		    100.0 * (double)memmap_bytes / (double)mem_bytes);
	w->verdict = le(w->measured, 1.6);
	return EXIT_OK;
}

/* One thread of fault_in_threads(): one store per page of its part. */
struct fault_part {
	struct pinmm_proc *p;
	unsigned long addr;
	size_t bytes;
	_Atomic int *go;			/* 1: start, -1: give up */
	long ret;
};

static void *fault_part_fn(void *arg)
{
	struct fault_part *f = arg;
	const char one = 1;

	int go;

	while (!(go = atomic_load(f->go)))
		sched_yield();
	if (go < 0)
		return NULL;
	pinmm_set_current(f->p);
	for (size_t off = 0; off < f->bytes && !f->ret; off += PAGE_SIZE) {
		long n = pinmm_store(f->p, f->addr + off, &one, 1);

		if (n != 1)
			f->ret = n < 0 ? n : -EFAULT;
	}
	pinmm_set_current(NULL);
	return NULL;
}

/*
 * F6: fault in a fresh @bytes mapping of @p with @nt threads, each on its
 * own half; *ns receives the wall time from the start signal to the last
 * join.  Returns 0 or -errno.
 */
static int fault_in_threads(struct pinmm_proc *p, size_t bytes, int nt, uint64_t *ns)
{
	struct fault_part f[2];
	pthread_t tid[2];
	_Atomic int go = 0;
	long a = pinmm_mmap(p, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	uint64_t t0;
	int ret = 0, started = 0;

	if (a < 0)
		return (int)a;
	for (int i = 0; i < nt; i++) {
		f[i] = (struct fault_part){ p, (unsigned long)a + (size_t)i * (bytes / nt),
					    bytes / nt, &go, 0 };
		if (pthread_create(&tid[i], NULL, fault_part_fn, &f[i]))
			break;
		started++;
	}
	t0 = bench_now_ns();
	atomic_store(&go, started < nt ? -1 : 1);
	for (int i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		if (f[i].ret && !ret)
			ret = (int)f[i].ret;
	}
	*ns = bench_now_ns() - t0;
	if (started < nt && !ret)
		ret = -EAGAIN;
	if (pinmm_munmap(p, (unsigned long)a, bytes) && !ret)
		ret = -EFAULT;
	return ret;
}

/* F6 on @p: 1 thread, then 2, three passes each; the ratio of medians. */
static int fault_scaling(struct pinmm_proc *p, size_t bytes, double *scale)
{
	double t1[3], t2[3];

	for (int k = 0; k < 3; k++) {
		uint64_t ns1 = 0, ns2 = 0;
		int ret = fault_in_threads(p, bytes, 1, &ns1);

		if (!ret)
			ret = fault_in_threads(p, bytes, 2, &ns2);
		if (ret)
			return ret;
		t1[k] = (double)ns1;
		t2[k] = (double)ns2;
	}
	*scale = bench_median(t1, 3) / bench_median(t2, 3);
	return 0;
}

/*
 * F5: fault in 1 GiB of 4 KiB pages with one store each, pinmm vs host;
 * F6: the same with 2 threads against 1, next to the CPU check.
 */
int std_fault(bool host)
{
	const size_t bytes = GiB;
	const long npages = (long)(bytes >> PAGE_SHIFT);
	double sim[6], hst[6], cold = 0, scale = 0, cpu1, cpu2;
	int ns = 0, nh = 0;
	struct pinmm *m;
	struct pinmm_proc *p;
	struct row *w;
	const char one = 1;
	int ret;

	ret = sim_boot(ram_for(bytes), false, &m);
	if (ret)
		return EXIT_FAIL;
	ret = pinmm_proc_create(m, &p);
	if (ret)
		goto fail;
	pinmm_set_current(p);
	for (int k = 0; k < 4; k++) {		/* k = 0: cold, first touch of host memory */
		long a = pinmm_mmap(p, 0, bytes, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t t0;

		if (a < 0) {
			ret = (int)a;
			goto fail;
		}
		t0 = bench_now_ns();
		for (size_t off = 0; off < bytes; off += PAGE_SIZE) {
			long n = pinmm_store(p, (unsigned long)a + off, &one, 1);

			if (n != 1) {
				ret = n < 0 ? (int)n : -EFAULT;
				goto fail;
			}
		}
		if (k)
			sim[ns++] = (double)(bench_now_ns() - t0) / (double)npages;
		else
			cold = (double)(bench_now_ns() - t0) / (double)npages;
		ret = pinmm_munmap(p, (unsigned long)a, bytes);
		if (ret)
			goto fail;
	}
	pinmm_set_current(NULL);
	cpu1 = host_cpu_scaling();
	ret = fault_scaling(p, bytes, &scale);
	cpu2 = host_cpu_scaling();
	if (ret)
		goto fail;
	ret = pinmm_shutdown(m);
	if (ret)
		return EXIT_FAIL;
	if (host) {
		for (int k = 0; k < 4; k++) {
			uint64_t t;

			if (host_fault_in(bytes, false, &t))
				break;
			if (k)
				hst[nh++] = (double)t / (double)npages;
		}
	}
	w = add_row("F5", "fault-in 1 GiB 4K, store/page", "ns/page", "-", bench_median(sim, ns));
	row_host(w, nh > 0, bench_median(hst, nh));
	snprintf(w->note, sizeof(w->note), "warm frames, median of %d; cold first pass %.0f ns/page%s",
		 ns, cold, host && !nh ? "; host mmap failed" : "");
	w = add_row("F6", "fault-in 2 threads vs 1, 1 GiB 4K", "x", ">= 0.95 x C1", scale);
	w->verdict = scale >= 0.95 * (cpu1 + cpu2) / 2 ? V_MET : V_MISSED;
	snprintf(w->note, sizeof(w->note), "one process, halves, median of 3; CPU check now %.2f "
		 "before, %.2f after; F6 / C1 = %.2f", cpu1, cpu2, scale / ((cpu1 + cpu2) / 2));
	return EXIT_OK;
fail:
	fprintf(stderr, "pinmm: bench: fault-in benchmark failed: %s\n", pinmm_strerror(ret));
	pinmm_set_current(NULL);
	pinmm_shutdown(m);
	return EXIT_FAIL;
}

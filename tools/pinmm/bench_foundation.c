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

/* F5: fault in 1 GiB of 4 KiB pages with one store each, pinmm vs host. */
int std_fault(bool host)
{
	const size_t bytes = GiB;
	const long npages = (long)(bytes >> PAGE_SHIFT);
	double sim[6], hst[6], cold = 0;
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
	return EXIT_OK;
fail:
	fprintf(stderr, "pinmm: bench: fault-in benchmark failed: %s\n", pinmm_strerror(ret));
	pinmm_set_current(NULL);
	pinmm_shutdown(m);
	return EXIT_FAIL;
}

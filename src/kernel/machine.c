/* SPDX-License-Identifier: MIT */
/*
 * machine.c - the machine and process handles as the ground layer sees
 * them: the configuration a machine was booted with, its random number
 * generator, and the per-thread `current` process with its plain
 * attributes.  Nothing here knows memory: an address space is mm's
 * (get_proc_mm(), mm_struct.c); boot and shutdown are init's (init/main.c);
 * creating and ending processes too (init/process.c).
 */
#include <errno.h>

#include "machine.h"
#include "rcu.h"

__thread struct pinmm_proc *pinmm_current_proc;

/**
 * pinmm_machine_config() - the configuration @m was booted with.
 * @m: the machine
 *
 * Context: any.
 * Return: a pointer valid until pinmm_shutdown(); NULL for a NULL @m.
 */
const struct pinmm_config *pinmm_machine_config(struct pinmm *m)
{
	pinmm_thread_enter();
	return m ? &m->cfg : NULL;
}

/**
 * pinmm_random() - the next number of @m's generator (splitmix64 seeded
 * with cfg.seed): deterministic for a given seed and call sequence.
 * @m: the machine
 *
 * Context: any; lock-free (concurrent callers each get a distinct value).
 * Return: 64 random bits.
 */
uint64_t pinmm_random(struct pinmm *m)
{
	const uint64_t gamma = 0x9e3779b97f4a7c15ULL;
	uint64_t z = __atomic_add_fetch(&m->rng, gamma, __ATOMIC_RELAXED);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/**
 * pinmm_set_current() - see <pinmm/pinmm.h>.
 * Context: the calling thread.
 */
void pinmm_set_current(struct pinmm_proc *p)
{
	pinmm_thread_enter();
	pinmm_current_proc = p;
}

/**
 * pinmm_current() - see <pinmm/pinmm.h>.
 * Context: the calling thread.
 * Return: its current process, or NULL.
 */
struct pinmm_proc *pinmm_current(void)
{
	return pinmm_current_proc;
}

/**
 * pinmm_proc_pid() - see <pinmm/pinmm.h>.
 * Context: any.
 * Return: the pid, -EINVAL for NULL.
 */
int pinmm_proc_pid(struct pinmm_proc *p)
{
	return p ? p->pid : -EINVAL;
}

/**
 * pinmm_proc_machine() - see <pinmm/pinmm.h>.
 * Context: any.
 * Return: the machine, NULL for NULL.
 */
struct pinmm *pinmm_proc_machine(struct pinmm_proc *p)
{
	return p ? p->machine : NULL;
}

/**
 * pinmm_proc_set_rlimit_memlock() - RLIMIT_MEMLOCK of @p, in bytes.
 * Context: any.
 * Return: 0, -EINVAL.
 */
int pinmm_proc_set_rlimit_memlock(struct pinmm_proc *p, uint64_t bytes)
{
	if (!p)
		return -EINVAL;
	p->rlimit_memlock = bytes;
	return 0;
}

/*
 * The final release of a process is init's (init/process.c frees its file
 * table and mm reference); pinmm_boot() sets this, so that the reference
 * count of a handle lives here, below every layer that holds one.
 */
void (*pinmm_proc_release)(struct pinmm_proc *p);

/**
 * pinmm_proc_get() - take a reference on the handle @p.
 * @p: a process whose handle (or another reference) the caller holds.
 *
 * Context: any thread.
 * Return: @p (NULL for NULL).
 */
struct pinmm_proc *pinmm_proc_get(struct pinmm_proc *p)
{
	if (p)
		atomic_inc(&p->usage);
	return p;
}

/**
 * pinmm_proc_put() - release a reference on @p: the handle returned by
 * pinmm_proc_create()/pinmm_fork(), or one from pinmm_proc_get().
 * @p: the process, or NULL.
 *
 * The last reference of an exited process frees it (its mm structure too,
 * once no remote user holds the mm).  A live process keeps running when
 * its handle is released; it is freed after its pinmm_exit().
 *
 * Context: any thread; must not hold a lock of @p's mm or the machine's.
 */
void pinmm_proc_put(struct pinmm_proc *p)
{
	if (p && atomic_dec_and_test(&p->usage))
		pinmm_proc_release(p);
}

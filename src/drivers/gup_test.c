/* SPDX-License-Identifier: MIT */
/*
 * gup_test.c - the kernel's gup_test facility (mm/gup_test.c in Linux,
 * CONFIG_GUP_TEST; a driver here, since it installs a file in the
 * process's file table, which is the VFS's): a "debugfs file" whose ioctls
 * benchmark and exercise get_user_pages*() and pin_user_pages*() on the
 * calling process's memory,
 * and hold one long-term test pin that user space can read through
 * (PIN_LONGTERM_TEST_*, used by the cow.c and gup_longterm.c self-tests).
 *
 * The file is an anonymous-inode file installed in the process's file
 * table (pinmm_gup_test_open()), so it follows the process's file
 * lifetime: shared at fork, released at the last close or at exit, and
 * ->release stops the long-term test pin as the debugfs file's does.
 *
 * State: Linux keeps one long-term test pin per kernel behind a global
 * mutex; here there is one per machine (struct gup_test_dev), created at
 * the first open on a machine and freed at the last release.  The ioctls
 * run in the context of the current process (pinmm_set_current()), as a
 * syscall does; the argument structure is the caller's memory (what
 * copy_from_user() would read), the addresses inside it are addresses in
 * the current process.  PIN_LONGTERM_TEST_READ copies each pinned page
 * through kmap_local_page() into the process's memory with pinmm_store()
 * (copy_to_user()).  Test pins are not charged to pinned_vm (Linux's are
 * not either).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <pinmm/gup_test.h>
#include "gup.h"
#include "fs.h"
#include "rcu.h"

/* kvmalloc() refuses anything above INT_MAX bytes. */
#define KVMALLOC_MAX	((size_t)INT_MAX)

/*
 * struct gup_test_dev - the gup_test state of one machine.
 * @users: open gup_test files on @machine (gup_test_devs_lock).
 * @lock: pin_longterm_test_mutex: serialises the three long-term commands.
 * @pages, @nr_pages: the long-term test pin (@lock).
 */
struct gup_test_dev {
	struct pinmm *machine;
	struct list_head node;
	int users;
	struct mutex lock;
	struct page **pages;
	unsigned long nr_pages;
};

static DEFINE_MUTEX(gup_test_devs_lock);
static LIST_HEAD(gup_test_devs);

/* ------------------------------------------------------------------ */
/* Benchmark and basic commands (__gup_test_ioctl)                      */

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void put_back_pages(unsigned long cmd, struct page **pages,
			   unsigned long nr_pages, unsigned int test_flags)
{
	switch (cmd) {
	case GUP_FAST_BENCHMARK:
	case GUP_BASIC_TEST:
		for (unsigned long i = 0; i < nr_pages; i++)
			put_page(pages[i]);
		break;
	case PIN_FAST_BENCHMARK:
	case PIN_BASIC_TEST:
	case PIN_LONGTERM_BENCHMARK:
		unpin_user_pages(pages, nr_pages);
		break;
	case DUMP_USER_PAGES_TEST:
		if (test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN) {
			unpin_user_pages(pages, nr_pages);
		} else {
			for (unsigned long i = 0; i < nr_pages; i++)
				put_page(pages[i]);
		}
		break;
	}
}

/* Every pinned page must look pinned (and long-term pinnable if so pinned). */
static void verify_dma_pinned(struct pinmm *m, unsigned long cmd, struct page **pages,
			      unsigned long nr_pages)
{
	switch (cmd) {
	case PIN_FAST_BENCHMARK:
	case PIN_BASIC_TEST:
	case PIN_LONGTERM_BENCHMARK:
		for (unsigned long i = 0; i < nr_pages; i++) {
			struct folio *folio = page_folio(pages[i]);

			if (WARN(!folio_maybe_dma_pinned(folio),
				 "pages[%lu] is NOT dma-pinned\n", i)) {
				dump_page(&folio->page, "gup_test failure");
				break;
			} else if (cmd == PIN_LONGTERM_BENCHMARK &&
				   WARN(!folio_is_longterm_pinnable(m, folio),
					"pages[%lu] is NOT pinnable but pinned\n", i)) {
				dump_page(&folio->page, "gup_test failure");
				break;
			}
		}
		break;
	}
}

static void dump_pages_test(struct pinmm *m, struct gup_test *gup, struct page **pages,
			    unsigned long nr_pages)
{
	bool quiet = m->cfg.quiet;

	/* .which_pages[] is 1-based; out-of-range entries are zeroed. */
	for (unsigned int i = 0; i < GUP_TEST_MAX_PAGES_TO_DUMP; i++) {
		if (gup->which_pages[i] > nr_pages) {
			if (!quiet)
				fprintf(stderr, "gup_test: ZEROING due to out of range: .which_pages[%u]: %u\n",
					i, gup->which_pages[i]);
			gup->which_pages[i] = 0;
		}
	}
	for (unsigned int i = 0; i < GUP_TEST_MAX_PAGES_TO_DUMP; i++) {
		unsigned int index = gup->which_pages[i];

		if (!index)
			continue;
		index--;
		if (!quiet)
			fprintf(stderr, "gup_test: ---- page #%u, starting from user virt addr: 0x%llx\n",
				index, (unsigned long long)gup->addr);
		dump_page(pages[index], "gup_test: dump_pages() test");
	}
}

static long __gup_test_ioctl(struct pinmm_proc *p, unsigned long cmd, struct gup_test *gup)
{
	struct mm_struct *mm = p->mm;
	bool needs_mmap_lock = cmd != GUP_FAST_BENCHMARK && cmd != PIN_FAST_BENCHMARK;
	unsigned long i, nr_pages, addr, next, end;
	uint64_t start_time, end_time;
	struct page **pages;
	long nr;
	long ret = 0;

	if (gup->addr > ULONG_MAX || gup->size > ULONG_MAX)
		return -EINVAL;
	if (__builtin_add_overflow((unsigned long)gup->addr, (unsigned long)gup->size, &end))
		return -EINVAL;

	nr_pages = gup->size / PAGE_SIZE;
	if (nr_pages > KVMALLOC_MAX / sizeof(void *))
		return -ENOMEM;
	pages = kcalloc(nr_pages ? nr_pages : 1, sizeof(void *));
	if (!pages)
		return -ENOMEM;

	if (needs_mmap_lock)
		mmap_read_lock(mm);

	i = 0;
	nr = gup->nr_pages_per_call;
	start_time = now_usec();
	for (addr = gup->addr; addr < end; addr = next) {
		if (nr != gup->nr_pages_per_call)
			break;
		next = addr + (unsigned long)nr * PAGE_SIZE;
		if (next > end || next < addr) {
			next = end;
			nr = (long)((next - addr) / PAGE_SIZE);
		}
		switch (cmd) {
		case GUP_FAST_BENCHMARK:
			nr = get_user_pages_fast(addr, (int)nr, gup->gup_flags, pages + i);
			break;
		case GUP_BASIC_TEST:
			nr = get_user_pages(addr, (unsigned long)nr, gup->gup_flags, pages + i);
			break;
		case PIN_FAST_BENCHMARK:
			nr = pin_user_pages_fast(addr, (int)nr, gup->gup_flags, pages + i);
			break;
		case PIN_BASIC_TEST:
			nr = pin_user_pages(addr, (unsigned long)nr, gup->gup_flags, pages + i);
			break;
		case PIN_LONGTERM_BENCHMARK:
			nr = pin_user_pages(addr, (unsigned long)nr,
					    gup->gup_flags | FOLL_LONGTERM, pages + i);
			break;
		case DUMP_USER_PAGES_TEST:
			if (gup->test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN)
				nr = pin_user_pages(addr, (unsigned long)nr, gup->gup_flags,
						    pages + i);
			else
				nr = get_user_pages(addr, (unsigned long)nr, gup->gup_flags,
						    pages + i);
			break;
		default:
			ret = -EINVAL;
			goto unlock;
		}
		if (nr <= 0)
			break;
		i += (unsigned long)nr;
	}
	end_time = now_usec();

	/* From here on nr_pages is the number actually taken. */
	nr_pages = i;
	gup->get_delta_usec = end_time - start_time;
	gup->size = addr - gup->addr;

	/* Untimed: check the pinned state of what was pinned. */
	verify_dma_pinned(p->machine, cmd, pages, nr_pages);
	if (cmd == DUMP_USER_PAGES_TEST)
		dump_pages_test(p->machine, gup, pages, nr_pages);

	start_time = now_usec();
	put_back_pages(cmd, pages, nr_pages, gup->test_flags);
	end_time = now_usec();
	gup->put_delta_usec = end_time - start_time;
unlock:
	if (needs_mmap_lock)
		mmap_read_unlock(mm);
	free(pages);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The long-term test pin                                               */

static void pin_longterm_test_stop(struct gup_test_dev *dev)
{
	lockdep_assert_held(&dev->lock);
	if (dev->pages) {
		if (dev->nr_pages)
			unpin_user_pages(dev->pages, dev->nr_pages);
		free(dev->pages);
		dev->pages = NULL;
		dev->nr_pages = 0;
	}
}

static long pin_longterm_test_start(struct gup_test_dev *dev, struct pinmm_proc *p,
				    const struct pin_longterm_test *uargs)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	struct pin_longterm_test args;
	unsigned long nr_pages;
	struct page **pages;
	long ret = 0;
	bool fast;

	if (dev->pages)
		return -EINVAL;
	if (!uargs)
		return -EFAULT;
	memcpy(&args, uargs, sizeof(args));

	if (args.flags & ~(PIN_LONGTERM_TEST_FLAG_USE_WRITE | PIN_LONGTERM_TEST_FLAG_USE_FAST))
		return -EINVAL;
	if (!IS_ALIGNED(args.addr | args.size, PAGE_SIZE))
		return -EINVAL;
	if (args.size > LONG_MAX)
		return -EINVAL;
	nr_pages = args.size / PAGE_SIZE;
	if (!nr_pages)
		return -EINVAL;
	if (nr_pages > KVMALLOC_MAX / sizeof(void *))
		return -ENOMEM;
	pages = kcalloc(nr_pages, sizeof(void *));
	if (!pages)
		return -ENOMEM;

	if (args.flags & PIN_LONGTERM_TEST_FLAG_USE_WRITE)
		gup_flags |= FOLL_WRITE;
	fast = args.flags & PIN_LONGTERM_TEST_FLAG_USE_FAST;

	if (!fast)
		mmap_read_lock(p->mm);
	dev->pages = pages;
	dev->nr_pages = 0;
	while (nr_pages - dev->nr_pages) {
		unsigned long remaining = nr_pages - dev->nr_pages;
		unsigned long addr = (unsigned long)args.addr + dev->nr_pages * PAGE_SIZE;
		long cur;

		if (fast)
			cur = pin_user_pages_fast(addr, (int)min(remaining, (unsigned long)INT_MAX),
						  gup_flags, pages);
		else
			cur = pin_user_pages(addr, remaining, gup_flags, pages);
		if (cur < 0) {
			pin_longterm_test_stop(dev);
			ret = cur;
			break;
		}
		if (WARN_ON_ONCE(cur == 0)) {	/* cannot happen: GUP returns -EFAULT */
			pin_longterm_test_stop(dev);
			ret = -EFAULT;
			break;
		}
		dev->nr_pages += (unsigned long)cur;
		pages += cur;
	}
	if (!fast)
		mmap_read_unlock(p->mm);
	return ret;
}

static long pin_longterm_test_read(struct gup_test_dev *dev, struct pinmm_proc *p,
				   const __u64 *uaddr)
{
	__u64 user_addr;

	if (!dev->pages)
		return -EINVAL;
	if (!uaddr)
		return -EFAULT;
	user_addr = *uaddr;
	for (unsigned long i = 0; i < dev->nr_pages; i++) {
		void *addr = kmap_local_page(dev->pages[i]);
		long ret;

		ret = pinmm_store(p, (unsigned long)user_addr, addr, PAGE_SIZE);
		kunmap_local(addr);
		if (ret != (long)PAGE_SIZE)
			return -EFAULT;
		user_addr += PAGE_SIZE;
	}
	return 0;
}

static long pin_longterm_test_ioctl(struct gup_test_dev *dev, struct pinmm_proc *p,
				    unsigned long cmd, void *arg)
{
	long ret = -EINVAL;

	mutex_lock(&dev->lock);
	switch (cmd) {
	case PIN_LONGTERM_TEST_START:
		ret = pin_longterm_test_start(dev, p, arg);
		break;
	case PIN_LONGTERM_TEST_STOP:
		pin_longterm_test_stop(dev);
		ret = 0;
		break;
	case PIN_LONGTERM_TEST_READ:
		ret = pin_longterm_test_read(dev, p, arg);
		break;
	}
	mutex_unlock(&dev->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The file                                                             */

static struct gup_test_dev *gup_test_dev_get(struct pinmm *m)
{
	struct gup_test_dev *dev;

	mutex_lock(&gup_test_devs_lock);
	list_for_each_entry(dev, &gup_test_devs, node) {
		if (dev->machine == m) {
			dev->users++;
			goto out;
		}
	}
	dev = kzalloc(sizeof(*dev));
	if (dev) {
		dev->machine = m;
		dev->users = 1;
		mutex_init(&dev->lock);
		list_add(&dev->node, &gup_test_devs);
	}
out:
	mutex_unlock(&gup_test_devs_lock);
	return dev;
}

static void gup_test_dev_put(struct gup_test_dev *dev)
{
	bool last;

	mutex_lock(&gup_test_devs_lock);
	last = --dev->users == 0;
	if (last)
		list_del(&dev->node);
	mutex_unlock(&gup_test_devs_lock);
	if (last) {
		VM_WARN_ON(dev->pages);
		mutex_destroy(&dev->lock);
		free(dev);
	}
}

/* ->release: stop the long-term test pin, like gup_test_release(). */
static void gup_test_release(struct file *file)
{
	struct gup_test_dev *dev = file->private_data;

	mutex_lock(&dev->lock);
	pin_longterm_test_stop(dev);
	mutex_unlock(&dev->lock);
	gup_test_dev_put(dev);
}

/* Like the debugfs file: no ->mmap (-ENODEV). */
static const struct file_operations gup_test_fops = {
	.release = gup_test_release,
};

/* The gup_test file behind @fd in @p, referenced, or NULL. */
static struct file *gup_test_fget(struct pinmm_proc *p, int fd)
{
	struct file *file = anon_inode_fget(p, fd, &gup_test_fops);

	return IS_ERR(file) ? NULL : file;
}

/**
 * pinmm_gup_test_open() - open the gup_test file in @p's file table.
 * @p: the process.
 *
 * Context: any thread.
 * Return: the descriptor; -EINVAL, -ESRCH, -EMFILE, -ENOMEM.
 */
int pinmm_gup_test_open(struct pinmm_proc *p)
{
	struct gup_test_dev *dev;
	struct file *file;
	int fd;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	dev = gup_test_dev_get(p->machine);
	if (!dev)
		return -ENOMEM;
	file = anon_inode_getfile("gup_test", &gup_test_fops, dev, O_RDWR);
	if (!file) {
		gup_test_dev_put(dev);
		return -ENOMEM;
	}
	fd = files_install(p, file);
	if (fd < 0)
		fput(file);	/* ->release drops @dev */
	return fd;
}

/**
 * pinmm_gup_test_ioctl() - the gup_test ioctls, on the current process.
 * @fd: a gup_test descriptor of the current process.
 * @cmd: the command.
 * @...: pointer to the command's argument (none for PIN_LONGTERM_TEST_STOP).
 *
 * Context: a thread with a current process; may sleep.
 * Return: 0 or -errno (see <pinmm/gup_test.h>).
 */
long pinmm_gup_test_ioctl(int fd, unsigned long cmd, ...)
{
	struct pinmm_proc *p;
	struct file *file;
	struct gup_test gup;
	void *arg = NULL;
	va_list ap;
	long ret;

	pinmm_thread_enter();
	p = pinmm_current();
	if (!p || READ_ONCE(p->exited))
		return -ESRCH;
	file = gup_test_fget(p, fd);
	if (!file)
		return -EBADF;
	if (cmd != PIN_LONGTERM_TEST_STOP) {
		va_start(ap, cmd);
		arg = va_arg(ap, void *);
		va_end(ap);
	}

	switch (cmd) {
	case GUP_FAST_BENCHMARK:
	case PIN_FAST_BENCHMARK:
	case PIN_LONGTERM_BENCHMARK:
	case GUP_BASIC_TEST:
	case PIN_BASIC_TEST:
	case DUMP_USER_PAGES_TEST:
		break;
	case PIN_LONGTERM_TEST_START:
	case PIN_LONGTERM_TEST_STOP:
	case PIN_LONGTERM_TEST_READ:
		ret = pin_longterm_test_ioctl(file->private_data, p, cmd, arg);
		goto out;
	default:
		ret = -EINVAL;
		goto out;
	}

	if (!arg) {
		ret = -EFAULT;
		goto out;
	}
	memcpy(&gup, arg, sizeof(gup));
	ret = __gup_test_ioctl(p, cmd, &gup);
	if (!ret)
		memcpy(arg, &gup, sizeof(gup));
out:
	fput(file);
	pinmm_debug_boundary(p->machine);
	return ret;
}

/**
 * pinmm_gup_test_close() - close a gup_test descriptor of the current
 * process (the last close stops the long-term test pin).
 * @fd: the descriptor.
 *
 * Context: a thread with a current process.
 * Return: 0, -ESRCH, -EBADF (not a gup_test descriptor).
 */
int pinmm_gup_test_close(int fd)
{
	struct pinmm_proc *p;
	struct file *file;

	pinmm_thread_enter();
	p = pinmm_current();
	if (!p || READ_ONCE(p->exited))
		return -ESRCH;
	file = gup_test_fget(p, fd);
	if (!file)
		return -EBADF;
	fput(file);
	return files_close(p, fd);
}

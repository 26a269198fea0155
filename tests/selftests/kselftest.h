/* SPDX-License-Identifier: MIT */
/*
 * kselftest.h - what Linux's selftests/mm programs get from kselftest.h,
 * vm_util.h, libc and liburing, re-done on top of pinmm so that ports of
 * cow.c and gup_longterm.c read nearly line for line like the originals.
 *
 * The ported program runs as one simulated process, `self`, on one
 * machine booted by ksft_boot().  Its "libc" acts on that process:
 *   - mmap/munmap/mprotect/madvise/memfd_create/ftruncate/fallocate/close/
 *     pread/ioctl return -1 and set errno on failure, as libc does;
 *   - malloc/free hand out process memory (an anonymous mapping), and
 *     memset/memcmp work on process addresses through the simulated MMU,
 *     so that `char *mem` is an address in the process, never dereferenced
 *     by the host;
 *   - fork() creates a child process (pinmm_fork()) whose side of the
 *     original's code does not run: the children of these tests only wait
 *     to be told to exit, so wait() is pinmm_exit() of the last child;
 *   - tmpfile() and mkstemp() create files on the machine's file systems
 *     (/tmp is tmpfs; the current directory is /data/, pinfs, on a host
 *     image that ksft_pinfs_image() creates and ksft_finished() removes),
 *     and fstatfs() asks the machine which filesystem a descriptor is on.
 * Output is TAP 13 (kselftest format) on stdout; meson reads it.
 */
#ifndef PINMM_KSELFTEST_H
#define PINMM_KSELFTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <assert.h>
#include <unistd.h>
#include <sys/uio.h>
#include <pinmm/pinmm.h>
#include <pinmm/gup_test.h>
#include <pinmm/io_uring.h>

/* The originals have unused parameters; this file has unused helpers. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_XFAIL	2
#define KSFT_XPASS	3
#define KSFT_SKIP	4

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* <linux/magic.h> */
#define TMPFS_MAGIC		PINMM_TMPFS_MAGIC
#define PINFS_MAGIC		PINMM_PINFS_MAGIC	/* a regular, writeback filesystem */

static struct pinmm *ksft_machine;
static struct pinmm_proc *self;
static struct pinmm_proc *ksft_last_child;
static int ksft_nr, ksft_cnt[5];
static char ksft_desc[512];
static char ksft_imgdir[64], ksft_image[96];

static void ksft_print_header(void)
{
	printf("TAP version 13\n");
}

static void ksft_set_plan(unsigned int plan)
{
	printf("1..%u\n", plan);
}

static __attribute__((format(printf, 1, 2))) void ksft_print_msg(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* ksft_exit_fail_msg(): "Bail out!" and a failing exit status. */
static __attribute__((format(printf, 1, 2), noreturn)) void ksft_exit_fail_msg(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	exit(KSFT_FAIL);
}

static void ksft_perror(const char *msg)
{
	printf("# %s: %s (%d)\n", msg, pinmm_strerror(-errno), errno);
}

static void ksft_result(int result, const char *fmt, va_list ap)
{
	static const char *const what[] = { "ok", "not ok", "ok", "not ok", "ok" };
	static const char *const directive[] = { "", "", " # XFAIL", " # XPASS", " # SKIP" };

	char msg[512] = "";
	size_t n;

	if (fmt)
		vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')	/* kselftest messages end in \n */
		msg[--n] = 0;
	ksft_cnt[result]++;
	printf("%s %d %s%s\n", what[result], ++ksft_nr, msg, directive[result]);
}

static __attribute__((format(printf, 2, 3))) void ksft_report(int result, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ksft_result(result, fmt, ap);
	va_end(ap);
}

#define ksft_test_result_pass(...)	ksft_report(KSFT_PASS, __VA_ARGS__)
#define ksft_test_result_fail(...)	ksft_report(KSFT_FAIL, __VA_ARGS__)
#define ksft_test_result_skip(...)	ksft_report(KSFT_SKIP, __VA_ARGS__)
#define ksft_test_result(cond, ...)	ksft_report((cond) ? KSFT_PASS : KSFT_FAIL, __VA_ARGS__)

/* cow.c's log_test_start()/log_test_result(): one description, one result. */
static __attribute__((format(printf, 1, 2))) void log_test_start(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ksft_desc, sizeof(ksft_desc), fmt, ap);
	va_end(ap);
	printf("# [RUN] %s\n", ksft_desc);
}

static void log_test_result(int result)
{
	ksft_report(result, "%s", ksft_desc);
}

/* Boot the machine and create `self`. */
static void ksft_boot(const char *const *kv)
{
	struct pinmm_config cfg;

	pinmm_config_default(&cfg);
	for (; *kv; kv += 2)
		if (pinmm_config_set(&cfg, kv[0], kv[1]))
			abort();
	if (pinmm_boot(&cfg, &ksft_machine) || pinmm_proc_create(ksft_machine, &self))
		abort();
	pinmm_set_current(self);
}

/*
 * A fresh host path for the pinfs image (config key pinfs.image: the
 * machine formats it at boot), in a new temporary directory.
 */
static const char *ksft_pinfs_image(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(ksft_imgdir, sizeof(ksft_imgdir), "%s/pinmm-ksft-XXXXXX",
		 tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(ksft_imgdir))
		abort();
	snprintf(ksft_image, sizeof(ksft_image), "%s/pinfs.img", ksft_imgdir);
	return ksft_image;
}

/* The last line: the machine shuts down clean (no leaked page, no pin). */
static int ksft_finished(void)
{
	pinmm_set_current(NULL);
	ksft_test_result(pinmm_shutdown(ksft_machine) == 0, "pinmm_shutdown() clean");
	if (ksft_image[0]) {
		unlink(ksft_image);
		rmdir(ksft_imgdir);
	}
	printf("# Totals: pass:%d fail:%d xfail:%d xpass:%d skip:%d error:0\n",
	       ksft_cnt[KSFT_PASS], ksft_cnt[KSFT_FAIL], ksft_cnt[KSFT_XFAIL],
	       ksft_cnt[KSFT_XPASS], ksft_cnt[KSFT_SKIP]);
	return ksft_cnt[KSFT_FAIL] || ksft_cnt[KSFT_XPASS] ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* "libc" of the process                                               */

static long ksft_err(long ret)
{
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static char *ksft_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	long ret = pinmm_mmap(self, (unsigned long)addr, len, prot, flags, fd, off);

	if (ret < 0) {
		errno = (int)-ret;
		return MAP_FAILED;
	}
	return (char *)ret;
}

static int ksft_munmap(void *addr, size_t len)
{
	return (int)ksft_err(pinmm_munmap(self, (unsigned long)addr, len));
}

static char *ksft_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	long ret = pinmm_mremap(self, (unsigned long)old, old_len, new_len, flags,
				(unsigned long)new_addr);

	if (ret < 0) {
		errno = (int)-ret;
		return MAP_FAILED;
	}
	return (char *)ret;
}

static int ksft_mprotect(void *addr, size_t len, int prot)
{
	return (int)ksft_err(pinmm_mprotect(self, (unsigned long)addr, len, prot));
}

static int ksft_madvise(void *addr, size_t len, int advice)
{
	return (int)ksft_err(pinmm_madvise(self, (unsigned long)addr, len, advice));
}

/* Process memory from "malloc": a private anonymous mapping with a header. */
static char *ksft_malloc(size_t size)
{
	size_t len = (size + 2 * 4096 - 1) & ~4095UL;
	char *p = ksft_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (pinmm_store(self, (unsigned long)p, &len, sizeof(len)) != sizeof(len))
		abort();
	return p + 4096;
}

static void ksft_free(void *ptr)
{
	size_t len;

	if (!ptr)
		return;
	if (pinmm_load(self, (unsigned long)ptr - 4096, &len, sizeof(len)) != sizeof(len))
		abort();
	ksft_munmap((char *)ptr - 4096, len);
}

/* memset() of process memory by @proc's CPU (a fault kills the test). */
static void proc_memset(struct pinmm_proc *proc, void *dst, int c, size_t n)
{
	char buf[4096];

	memset(buf, c, sizeof(buf));
	for (size_t done = 0; done < n;) {
		size_t chunk = n - done < sizeof(buf) ? n - done : sizeof(buf);

		if (pinmm_store(proc, (unsigned long)dst + done, buf, chunk) != (long)chunk)
			abort();
		done += chunk;
	}
}

static void ksft_memset(void *dst, int c, size_t n)
{
	proc_memset(self, dst, c, n);
}

static int ksft_memcmp(const void *a, const void *b, size_t n)
{
	char x[4096], y[4096];

	for (size_t done = 0; done < n;) {
		size_t chunk = n - done < sizeof(x) ? n - done : sizeof(x);
		int r;

		if (pinmm_load(self, (unsigned long)a + done, x, chunk) != (long)chunk ||
		    pinmm_load(self, (unsigned long)b + done, y, chunk) != (long)chunk)
			abort();
		r = memcmp(x, y, chunk);
		if (r)
			return r;
		done += chunk;
	}
	return 0;
}

/* FORCE_READ(): one load by the process's CPU. */
#define FORCE_READ(addr) do {						\
	char __c;							\
	if (pinmm_load(self, (unsigned long)(addr), &__c, 1) != 1)	\
		abort();						\
} while (0)

/* pagemap_is_populated(): is a page mapped at @addr? */
static bool pagemap_is_populated(int pagemap_fd, void *addr)
{
	struct pinmm_page_info pi;

	(void)pagemap_fd;
	return !pinmm_page_info(self, (unsigned long)addr, &pi) && pi.present;
}

/* pagemap_is_swapped(): is a swap entry mapped at @addr (PM_SWAP)? */
static bool pagemap_is_swapped(int pagemap_fd, void *addr)
{
	struct pinmm_page_info pi;

	(void)pagemap_fd;
	return !pinmm_page_info(self, (unsigned long)addr, &pi) && pi.swapped;
}

/* range_is_swapped() of vm_util.c: every page of the range swapped out. */
static bool range_is_swapped(void *addr, size_t size)
{
	for (; size; addr = (char *)addr + 4096, size -= 4096)
		if (!pagemap_is_swapped(-1, addr))
			return false;
	return true;
}

/* pagemap_get_pfn(): the pfn mapped at @addr, or -1ul (vm_util.h). */
static unsigned long pagemap_get_pfn(int pagemap_fd, void *addr)
{
	struct pinmm_page_info pi;

	(void)pagemap_fd;
	if (pinmm_page_info(self, (unsigned long)addr, &pi) || !pi.present)
		return -1ul;
	return pi.pfn;
}

/* fork(): the child's side of the original does not run (see above). */
static int ksft_fork(void)
{
	long ret = pinmm_fork(self, &ksft_last_child);

	if (ret)
		return (int)ksft_err(ret);
	return pinmm_proc_pid(ksft_last_child);
}

/* wait(): the last child exits (it was waiting to be told to). */
static int ksft_wait(int *status)
{
	if (!ksft_last_child)
		return (int)ksft_err(-ECHILD);
	pinmm_exit(ksft_last_child);
	ksft_last_child = NULL;
	*status = 0;
	return 0;
}
#undef WIFEXITED
#define WIFEXITED(s)	((s) == 0)

static int ksft_memfd_create(const char *name, unsigned int flags)
{
	return (int)ksft_err(pinmm_memfd_create(self, name, flags));
}

static int ksft_ftruncate(int fd, long len)
{
	return (int)ksft_err(pinmm_ftruncate(self, fd, len));
}

static int ksft_fallocate(int fd, int mode, long off, long len)
{
	return (int)ksft_err(pinmm_fallocate(self, fd, mode, off, len));
}

static int ksft_close(int fd)
{
	return (int)ksft_err(pinmm_close(self, fd));
}

/* pread() into process memory. */
static long ksft_pread(int fd, void *buf, size_t count, long off)
{
	char tmp[4096];
	long ret;

	if (count > sizeof(tmp))
		count = sizeof(tmp);
	ret = pinmm_pread(self, fd, tmp, count, off);
	if (ret > 0 && pinmm_store(self, (unsigned long)buf, tmp, (size_t)ret) != ret)
		return ksft_err(-EFAULT);
	return ksft_err(ret);
}

static long ksft_ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = cmd == PIN_LONGTERM_TEST_STOP ? NULL : va_arg(ap, void *);
	va_end(ap);
	return ksft_err(arg ? pinmm_gup_test_ioctl(fd, cmd, arg) :
			      pinmm_gup_test_ioctl(fd, cmd));
}

/* Files: tmpfile() on tmpfs, mkstemp() in the current directory (pinfs). */
typedef struct { int fd; char path[64]; } KSFT_FILE;
#define KSFT_CWD	"/data/"

static KSFT_FILE *ksft_tmpfile(void)
{
	static KSFT_FILE files[8];
	static int next, seq;
	KSFT_FILE *f = &files[next++ % ARRAY_SIZE(files)];

	snprintf(f->path, sizeof(f->path), "/tmp/ksft_tmpfile_%d", ++seq);
	f->fd = pinmm_open(self, f->path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (f->fd < 0) {
		errno = -f->fd;
		return NULL;
	}
	pinmm_unlink(self, f->path);
	return f;
}
#define fileno(f)	((f)->fd)
#define fclose(f)	ksft_close((f)->fd)

/* @name as an absolute path: relative names are in KSFT_CWD. */
static int ksft_abspath(const char *name, char *path, size_t len)
{
	int n = snprintf(path, len, "%s%s", name[0] == '/' ? "" : KSFT_CWD, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* mkstemp(): the trailing XXXXXX of @tmpl becomes a new file's suffix. */
static int ksft_mkstemp(char *tmpl)
{
	static unsigned int seq;
	size_t n = strlen(tmpl);
	char path[128];
	int fd = -EEXIST;

	if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX"))
		return (int)ksft_err(-EINVAL);
	for (int tries = 0; fd == -EEXIST && tries < 100; tries++) {
		snprintf(tmpl + n - 6, 7, "%06u", ++seq % 1000000);
		fd = ksft_abspath(tmpl, path, sizeof(path));
		if (!fd)
			fd = pinmm_open(self, path, O_RDWR | O_CREAT | O_EXCL, 0600);
	}
	return (int)ksft_err(fd);
}

static int ksft_unlink(const char *name)
{
	char path[128];
	int err = ksft_abspath(name, path, sizeof(path));

	return (int)ksft_err(err ? err : pinmm_unlink(self, path));
}

/* fstatfs() and its struct statfs. */
static int ksft_fstatfs(int fd, struct pinmm_statfs *buf)
{
	return (int)ksft_err(pinmm_fstatfs(self, fd, buf));
}

/* ------------------------------------------------------------------ */
/* liburing, synchronous                                               */

struct io_uring_sqe {
	int opcode, fd;
	void *addr;
	unsigned int len, buf_index;
	long off;
};
struct io_uring_cqe {
	long res;
};
struct io_uring {
	int ring_fd;
	struct io_uring_sqe sqe;
	struct io_uring_cqe cqe;
	bool queued;
};
#define IORING_OP_READ_FIXED	4
#define IORING_OP_WRITE_FIXED	5

static int io_uring_queue_init(unsigned int entries, struct io_uring *ring, unsigned int flags)
{
	(void)flags;
	memset(ring, 0, sizeof(*ring));
	ring->ring_fd = pinmm_uring_create(self, entries);
	return ring->ring_fd < 0 ? ring->ring_fd : 0;
}

static void io_uring_queue_exit(struct io_uring *ring)
{
	pinmm_uring_destroy(self, ring->ring_fd);
}

/* Returns -errno, and (like the selftests expect) sets errno. */
static int io_uring_register_buffers(struct io_uring *ring, const struct iovec *iov,
				     unsigned int nr)
{
	int ret = pinmm_uring_register_buffers(self, ring->ring_fd, iov, nr);

	if (ret)
		errno = -ret;
	return ret;
}

static int io_uring_unregister_buffers(struct io_uring *ring)
{
	return pinmm_uring_unregister_buffers(self, ring->ring_fd);
}

static struct io_uring_sqe *io_uring_get_sqe(struct io_uring *ring)
{
	if (ring->queued)
		return NULL;
	ring->queued = true;
	return &ring->sqe;
}

static void io_uring_prep_write_fixed(struct io_uring_sqe *sqe, int fd, const void *buf,
				      unsigned int nbytes, long offset, int buf_index)
{
	*sqe = (struct io_uring_sqe){ IORING_OP_WRITE_FIXED, fd, (void *)buf, nbytes,
				      (unsigned int)buf_index, offset };
}

static int io_uring_submit(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = &ring->sqe;

	if (!ring->queued)
		return 0;
	if (sqe->opcode == IORING_OP_WRITE_FIXED)
		ring->cqe.res = pinmm_uring_write_fixed(self, ring->ring_fd, sqe->fd, sqe->buf_index,
							(unsigned long)sqe->addr, sqe->len, sqe->off);
	else
		ring->cqe.res = pinmm_uring_read_fixed(self, ring->ring_fd, sqe->fd, sqe->buf_index,
						       (unsigned long)sqe->addr, sqe->len, sqe->off);
	return 1;
}

static int io_uring_wait_cqe(struct io_uring *ring, struct io_uring_cqe **cqe)
{
	if (!ring->queued)
		return -EAGAIN;
	*cqe = &ring->cqe;
	return 0;
}

static void io_uring_cqe_seen(struct io_uring *ring, struct io_uring_cqe *cqe)
{
	(void)cqe;
	ring->queued = false;
}

/* The libc names, from here on acting on `self`. */
#define mmap		ksft_mmap
#define munmap		ksft_munmap
#define mremap		ksft_mremap
#define mprotect	ksft_mprotect
#define madvise		ksft_madvise
#define malloc		ksft_malloc
#define free		ksft_free
#define memset		ksft_memset
#define memcmp		ksft_memcmp
#define fork		ksft_fork
#define wait		ksft_wait
#define memfd_create	ksft_memfd_create
#define ftruncate	ksft_ftruncate
#define fallocate	ksft_fallocate
#define close		ksft_close
#define pread		ksft_pread
#define ioctl		ksft_ioctl
#define tmpfile		ksft_tmpfile
#define mkstemp		ksft_mkstemp
#define unlink		ksft_unlink
#define fstatfs		ksft_fstatfs
#define statfs		pinmm_statfs
#define FILE		KSFT_FILE

#endif /* PINMM_KSELFTEST_H */

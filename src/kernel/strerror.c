/* SPDX-License-Identifier: MIT */
/*
 * strerror.c - pinmm_strerror() (errno names for negative returns) and
 * pinmm_version().
 */
#include <errno.h>

#include "rcu.h"
#include "machine.h"

#define E(name) [name] = #name
static const char *const errno_names[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
	E(EFAULT), E(ENOTBLK), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV),
	E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY),
	E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK),
	E(EPIPE), E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK),
	E(ENOSYS), E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(EIDRM), E(ENODATA),
	E(ETIME), E(ENOLINK), E(EPROTO), E(EBADMSG), E(EOVERFLOW),
	E(EILSEQ), E(EUSERS), E(ENOTSOCK), E(EMSGSIZE), E(EOPNOTSUPP),
	E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN), E(ECONNRESET),
	E(ENOBUFS), E(ETIMEDOUT), E(ECONNREFUSED), E(EALREADY),
	E(EINPROGRESS), E(ESTALE), E(EUCLEAN), E(EDQUOT), E(ECANCELED),
	E(EOWNERDEAD), E(ENOTRECOVERABLE), E(ERFKILL), E(EHWPOISON),
	E(ENOKEY), E(EKEYEXPIRED), E(EKEYREVOKED), E(EKEYREJECTED),	/* RDMA keys */
	E(EREMOTEIO),					/* RDMA: lease revoked */
};
#undef E

/**
 * pinmm_strerror() - the errno name of a library return value.
 * @err: a negative errno (a positive errno is accepted too)
 *
 * Context: any; the result is a static string.
 * Return: "EFAULT" for -EFAULT, "OK" for 0, "E?" for unknown values; never
 * NULL.
 */
const char *pinmm_strerror(int err)
{
	pinmm_thread_enter();
	if (err == 0)
		return "OK";
	if (err < 0)
		err = -err;
	if (err > 0 && (size_t)err < ARRAY_SIZE(errno_names) && errno_names[err])
		return errno_names[err];
	return "E?";
}

#define PINMM_STR2(x) #x
#define PINMM_STR(x) PINMM_STR2(x)

/**
 * pinmm_version() - the library version.
 *
 * Context: any.
 * Return: "major.minor.patch", a static string.
 */
const char *pinmm_version(void)
{
	pinmm_thread_enter();
	return PINMM_STR(PINMM_VERSION_MAJOR) "." PINMM_STR(PINMM_VERSION_MINOR) "."
	       PINMM_STR(PINMM_VERSION_PATCH);
}

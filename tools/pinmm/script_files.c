/* SPDX-License-Identifier: MIT */
/*
 * script_files.c - file commands of the scenario language: open, memfd,
 * close, pwrite, pread, ftruncate, fallocate, fsync, unlink and fsize.
 * File descriptors are plain integers held in variables ("-> F").
 *
 * The page-cache pinfs mount /data/ needs an image file on the host
 * (pinfs.image); a script that names none gets a fresh one in a temporary
 * directory at each boot (script_default_image()), removed when that
 * machine goes, so /data/ is there for every script as /dax/ is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

const struct name_val open_names[] = {
	{ "rdonly", O_RDONLY }, { "wronly", O_WRONLY }, { "rdwr", O_RDWR },
	{ "creat", O_CREAT }, { "create", O_CREAT }, { "excl", O_EXCL },
	{ "trunc", O_TRUNC }, { "append", O_APPEND }, { "direct", O_DIRECT },
	{ "sync", O_SYNC }, { "dsync", O_DSYNC }, { "cloexec", O_CLOEXEC },
	{ NULL, 0 },
};

const struct name_val memfd_names[] = {
	{ "cloexec", MFD_CLOEXEC }, { "allow_sealing", MFD_ALLOW_SEALING },
	{ "hugetlb", MFD_HUGETLB }, { "huge_2mb", MFD_HUGE_2MB }, { "huge_1gb", MFD_HUGE_1GB },
	{ NULL, 0 },
};

const struct name_val falloc_names[] = {
	{ "keep_size", FALLOC_FL_KEEP_SIZE }, { "punch_hole", FALLOC_FL_PUNCH_HOLE },
	{ "zero_range", FALLOC_FL_ZERO_RANGE }, { "collapse_range", FALLOC_FL_COLLAPSE_RANGE },
	{ "insert_range", FALLOC_FL_INSERT_RANGE }, { "unshare_range", FALLOC_FL_UNSHARE_RANGE },
	{ "punch", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE },
	{ "collapse", FALLOC_FL_COLLAPSE_RANGE }, { "insert", FALLOC_FL_INSERT_RANGE },
	{ NULL, 0 },
};

static int usage(struct script *s, const char *cmd)
{
	return script_syntax(s, "usage: %s", script_find_cmd(cmd)->usage);
}

/* arg_string() - a path or name: bare word or "quoted"; the result is malloc()ed. */
int arg_string(struct script *s, const char *tok, char **out)
{
	unsigned char *buf;
	size_t len;
	int rc;

	if (tok[0] != '"') {
		*out = strdup(tok);
		return *out ? 0 : -ENOMEM;
	}
	rc = arg_data(s, tok, &buf, &len);
	if (rc)
		return rc;
	if (memchr(buf, '\0', len)) {
		free(buf);
		return script_syntax(s, "a path cannot contain NUL bytes");
	}
	buf[len] = '\0';
	*out = (char *)buf;
	return 0;
}

/*
 * The words after [P] of the commands file_args_parse() reads: F (a
 * descriptor), O (an offset), L (a length), D (data), M (FALLOC_FL_ flags),
 * P (a path).
 */
static const struct {
	const char *cmd, *words;
} file_shapes[] = {
	{ "close", "F" }, { "fsync", "F" }, { "fsize", "F" }, { "ftruncate", "FL" },
	{ "pwrite", "FOD" }, { "pread", "FOL" }, { "fallocate", "FMOL" }, { "unlink", "P" },
};

static int file_word(struct script *s, char w, const char *tok, struct file_args *fa)
{
	size_t len;
	int rc;

	switch (w) {
	case 'F': return arg_int(s, tok, &fa->fd);
	case 'O': return arg_int(s, tok, &fa->off);
	case 'L': return arg_int(s, tok, &fa->len);
	case 'M': return arg_flags(s, tok, falloc_names, "FALLOC_FL_", &fa->flags);
	case 'P': return arg_string(s, tok, &fa->path);
	default:	/* 'D' */
		rc = arg_data(s, tok, &fa->data, &len);
		fa->len = (long long)len;
		return rc;
	}
}

/**
 * file_args_parse() - the words of close, fsync, fsize, ftruncate, pwrite,
 * pread, fallocate, unlink or memfd (argv[0]) from argv[@i] on, into @fa;
 * fa->data (pwrite DATA, its length in fa->len) and fa->path (unlink PATH,
 * memfd NAME) are allocated: file_args_free().
 * Context: file handlers, simulated and host (host_files.c).
 * Return: 0, SCRIPT_SYNTAX, or -ENOMEM.
 */
int file_args_parse(struct script *s, int argc, char **argv, int i, struct file_args *fa)
{
	const char *words = NULL;
	int rc = 0;

	*fa = (struct file_args){ 0 };
	if (!strcmp(argv[0], "memfd")) {
		if (argc - i < 1 || argc - i > 2)
			return usage(s, "memfd");
		if (argc - i == 2 && arg_flags(s, argv[i + 1], memfd_names, "MFD_", &fa->flags))
			return SCRIPT_SYNTAX;
		return arg_string(s, argv[i], &fa->path);
	}
	for (size_t k = 0; k < ARRAY_SIZE(file_shapes); k++)
		if (!strcmp(argv[0], file_shapes[k].cmd))
			words = file_shapes[k].words;
	if (!words)
		return -EINVAL;		/* not a command of file_shapes[] */
	if (argc - i != (int)strlen(words))
		return usage(s, argv[0]);
	for (int k = 0; words[k] && !rc; k++)
		rc = file_word(s, words[k], argv[i + k], fa);
	if (!rc && !strcmp(argv[0], "pread") && (fa->len < 0 || fa->len > (64LL << 20)))
		rc = script_syntax(s, "pread length %lld out of range (0..64M)", fa->len);
	if (rc)
		file_args_free(fa);
	return rc;
}

/**
 * file_args_free() - free what file_args_parse() allocated in @fa.
 * Context: file handlers, simulated and host (host_files.c).
 */
void file_args_free(struct file_args *fa)
{
	free(fa->data);
	free(fa->path);
	fa->data = NULL;
	fa->path = NULL;
}

/* [P], then the words of argv[0] (file_args_parse()). */
static int proc_and(struct script *s, int argc, char **argv, struct pinmm_proc **p,
		    struct file_args *fa)
{
	int i = 1;

	if (arg_proc(s, argc, argv, &i, p))
		return SCRIPT_SYNTAX;
	return file_args_parse(s, argc, argv, i, fa);
}

static int bind_fd(struct script *s, int fd)
{
	if (fd < 0)
		return fd;
	if (!s->bind && s->opts->verbose)
		script_out(s, "  fd %d\n", fd);
	return var_bind_int(s, fd);
}

/**
 * open_args_parse() - the words of `open` from argv[@i] on: PATH [O_FLAGS]
 * [mode=OCTAL]; *@flags defaults to O_RDWR, *@mode to 0644.
 * Context: open handlers, simulated and host (host_files.c).
 * Return: 0 with *@path allocated (free()), SCRIPT_SYNTAX or -ENOMEM.
 */
int open_args_parse(struct script *s, int argc, char **argv, int i, long *flags,
		    unsigned *mode, char **path)
{
	const char *v;

	*flags = O_RDWR;
	*mode = 0644;
	if (argc - i < 1 || argc - i > 3)
		return usage(s, "open");
	for (int j = i + 1; j < argc; j++) {
		if (arg_kv(argv[j], "mode", &v)) {
			char *end;

			*mode = (unsigned)strtoul(v, &end, 8);
			if (*end || !*v)
				return script_syntax(s, "bad octal mode '%s'", v);
		} else if (arg_flags(s, argv[j], open_names, "O_", flags)) {
			return SCRIPT_SYNTAX;
		}
	}
	return arg_string(s, argv[i], path);
}

static int cmd_open(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	long flags;
	unsigned mode;
	char *path;
	int i = 1, rc;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	rc = open_args_parse(s, argc, argv, i, &flags, &mode, &path);
	if (rc)
		return rc;
	rc = pinmm_open(p, path, (int)flags, mode);
	free(path);
	return bind_fd(s, rc);
}

static int cmd_memfd(struct script *s, int argc, char **argv)
{
	struct file_args fa;
	struct pinmm_proc *p;
	int rc = proc_and(s, argc, argv, &p, &fa);

	if (rc)
		return rc;
	rc = pinmm_memfd_create(p, fa.path, (unsigned)fa.flags);
	file_args_free(&fa);
	return bind_fd(s, rc);
}

/* close, fsync, ftruncate, fallocate and unlink: no value but the error. */
static int cmd_file_op(struct script *s, int argc, char **argv)
{
	struct file_args fa;
	struct pinmm_proc *p;
	int rc = proc_and(s, argc, argv, &p, &fa);

	if (rc)
		return rc;
	if (!strcmp(argv[0], "close"))
		rc = pinmm_close(p, (int)fa.fd);
	else if (!strcmp(argv[0], "fsync"))
		rc = pinmm_fsync(p, (int)fa.fd);
	else if (!strcmp(argv[0], "ftruncate"))
		rc = pinmm_ftruncate(p, (int)fa.fd, (long)fa.len);
	else if (!strcmp(argv[0], "fallocate"))
		rc = pinmm_fallocate(p, (int)fa.fd, (int)fa.flags, (long)fa.off, (long)fa.len);
	else
		rc = pinmm_unlink(p, fa.path);
	file_args_free(&fa);
	return rc;
}

static int cmd_pwrite(struct script *s, int argc, char **argv)
{
	struct file_args fa;
	struct pinmm_proc *p;
	long ret;
	int rc = proc_and(s, argc, argv, &p, &fa);

	if (rc)
		return rc;
	ret = pinmm_pwrite(p, (int)fa.fd, fa.data, (size_t)fa.len, (long)fa.off);
	file_args_free(&fa);
	if (ret < 0)
		return (int)ret;
	return var_bind_int(s, ret);
}

static int cmd_pread(struct script *s, int argc, char **argv)
{
	struct file_args fa;
	struct pinmm_proc *p;
	unsigned char *buf;
	long ret;
	int rc;

	if (proc_and(s, argc, argv, &p, &fa))
		return SCRIPT_SYNTAX;
	buf = malloc(fa.len ? fa.len : 1);
	if (!buf)
		return -ENOMEM;
	ret = pinmm_pread(p, (int)fa.fd, buf, (size_t)fa.len, (long)fa.off);
	rc = ret < 0 ? (int)ret : var_bind_bytes(s, buf, (size_t)ret);
	free(buf);
	return rc;
}

static int cmd_fsize(struct script *s, int argc, char **argv)
{
	struct file_args fa;
	struct pinmm_proc *p;
	long ret;

	if (proc_and(s, argc, argv, &p, &fa))
		return SCRIPT_SYNTAX;
	ret = pinmm_fstat_size(p, (int)fa.fd);
	if (ret < 0)
		return (int)ret;
	return var_bind_int(s, ret);
}

static const struct script_cmd file_cmds[] = {
	{ "open", cmd_open, BIND_OPTIONAL, "open [P] PATH [FLAGS] [mode=0644] [-> F]   (FLAGS: rdwr,creat,trunc...)" },
	{ "memfd", cmd_memfd, BIND_OPTIONAL, "memfd [P] NAME [cloexec,allow_sealing,hugetlb] [-> F]" },
	{ "close", cmd_file_op, BIND_NONE, "close [P] F" },
	{ "pwrite", cmd_pwrite, BIND_OPTIONAL, "pwrite [P] F OFF DATA [-> N]" },
	{ "pread", cmd_pread, BIND_OPTIONAL, "pread [P] F OFF LEN [-> X]" },
	{ "ftruncate", cmd_file_op, BIND_NONE, "ftruncate [P] F LEN" },
	{ "fallocate", cmd_file_op, BIND_NONE, "fallocate [P] F MODE OFF LEN   (MODE: 0, keep_size,punch_hole, zero_range..., punch, collapse, insert)" },
	{ "fsync", cmd_file_op, BIND_NONE, "fsync [P] F" },
	{ "unlink", cmd_file_op, BIND_NONE, "unlink [P] PATH" },
	{ "fsize", cmd_fsize, BIND_REQUIRED, "fsize [P] F -> N" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group file_group;

/* The runner's /data/ image: small, it lives for one boot. */
#define SCRIPT_IMAGE_SIZE "8M"

/* The default /data/ image of the machine booted now, if any. */
struct data_image {
	char dir[64];
	char img[96];
};

/**
 * script_default_image() - give a boot without pinfs.image a fresh /data/
 * image in a new temporary directory (removed when the machine goes), of
 * SCRIPT_IMAGE_SIZE unless the boot gave pinfs.size.
 * @s: the script, about to boot with @s->cfg.
 * @sized: the boot line set pinfs.size.
 *
 * Return: 0 (also when pinfs.image was given), or -errno.
 */
int script_default_image(struct script *s, bool sized)
{
	void **slot = script_private(s, &file_group);
	struct data_image *d;
	int rc;

	if (s->cfg.pinfs_image[0])
		return 0;
	if (!slot)
		return -ENOMEM;
	if (!*slot)
		*slot = calloc(1, sizeof(struct data_image));
	d = *slot;
	if (!d)
		return -ENOMEM;
	snprintf(d->dir, sizeof(d->dir), "%s/pinmm-run-XXXXXX",
		 getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 40 ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(d->dir)) {
		d->dir[0] = '\0';
		return -errno;
	}
	snprintf(d->img, sizeof(d->img), "%s/data.img", d->dir);
	rc = pinmm_config_set(&s->cfg, "pinfs.image", d->img);
	if (!rc && !sized)
		rc = pinmm_config_set(&s->cfg, "pinfs.size", SCRIPT_IMAGE_SIZE);
	if (rc)
		rmdir(d->dir);
	return rc;
}

/**
 * script_default_image_gone() - remove the default image, if the machine
 * had one (it may still be open: the machine is shutting down or failed
 * to boot).
 * @s: the script.
 */
void script_default_image_gone(struct script *s)
{
	void **slot = script_private(s, &file_group);
	struct data_image *d = slot ? *slot : NULL;

	if (!d || !d->dir[0])
		return;
	unlink(d->img);
	rmdir(d->dir);
	d->dir[0] = '\0';
}

static void file_script_end(struct script *s)
{
	void **slot = script_private(s, &file_group);

	if (slot) {
		script_default_image_gone(s);
		free(*slot);
		*slot = NULL;
	}
}

static const struct script_group file_group = {
	.title = "Files",
	.order = 20,
	.cmds = file_cmds,
	.machine_gone = script_default_image_gone,
	.script_end = file_script_end,
};
SCRIPT_GROUP(file_group);

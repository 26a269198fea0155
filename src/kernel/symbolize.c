/* SPDX-License-Identifier: MIT */
/*
 * symbolize.c - name code addresses: "function+0xoff (file.c:line)".
 *
 * Linux prints call traces with kallsyms; pinmm is an ordinary process, so
 * it asks elfutils' libdwfl about its own address space: the modules come
 * from /proc/self/maps (dwfl_linux_proc_report), the function from the ELF
 * symbol tables, static functions included (dwfl_module_addrinfo), the
 * file and line from the DWARF line table when the object has debug
 * information (dwfl_module_getsrc).  Where libdwfl knows nothing the name
 * falls back to dladdr() (exported symbols only), then to the module and
 * the offset in it, then to the raw address (doc/DESIGN.md).
 *
 * Owns one Dwfl session for the process, made on first use and refreshed
 * when an address falls outside every known module (a library loaded
 * later).  libdwfl is not thread-safe: sym_lock serialises every use.  It
 * is a leaf lock (doc/LOCKING.md): nothing else is taken under it, and it
 * may be taken under any lock of the model, since a WARN can fire anywhere.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <execinfo.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "locking.h"
#include "symbolize.h"

/* The deepest call trace a splat prints. */
#define STACK_MAX 48

/*
 * A raw pthread mutex, outside the lock validator: symbolising is part of
 * reporting (WARN, BUG, the validator's own reports), which runs under any
 * lock of the model, and must not itself be validated or traced (Linux's
 * stack-trace printing, likewise, is not lockdep's business).
 */
static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *sym_dwfl;		/* under sym_lock */

static char *debuginfo_path;
static const Dwfl_Callbacks sym_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* (Re)read the process's modules.  Context: sym_lock held. */
static Dwfl *dwfl_report(void)
{
	if (!sym_dwfl)
		sym_dwfl = dwfl_begin(&sym_callbacks);
	if (!sym_dwfl)
		return NULL;
	dwfl_report_begin(sym_dwfl);
	if (dwfl_linux_proc_report(sym_dwfl, getpid()) ||
	    dwfl_report_end(sym_dwfl, NULL, NULL)) {
		dwfl_end(sym_dwfl);
		sym_dwfl = NULL;
	}
	return sym_dwfl;
}

/* The source file as a reader wants it: no leading "../" of the build dir. */
static const char *tidy_file(const char *f, unsigned int flags)
{
	const char *slash = strrchr(f, '/');

	if (flags & SYM_SHORT_FILE)
		return slash ? slash + 1 : f;
	while (!strncmp(f, "../", 3))
		f += 3;
	return f;
}

/* libdwfl's answer.  Return: true when it named a function.  sym_lock held. */
static bool dwfl_name(uintptr_t a, unsigned int flags, char *buf, size_t len)
{
	uintptr_t at = flags & SYM_RETURN_ADDR ? a - 1 : a;	/* inside the call */
	Dwfl *d = sym_dwfl ? sym_dwfl : dwfl_report();
	Dwfl_Module *mod = d ? dwfl_addrmodule(d, at) : NULL;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *fn, *file = NULL;
	Dwfl_Line *line;
	int lineno = 0;
	int n;

	if (d && !mod && (d = dwfl_report()))	/* a module mapped since */
		mod = dwfl_addrmodule(d, at);
	if (!mod)
		return false;
	fn = dwfl_module_addrinfo(mod, at, &off, &sym, NULL, NULL, NULL);
	if (!fn)
		return false;
	if (at != a)
		off++;		/* the offset of @a itself */
	line = dwfl_module_getsrc(mod, at);
	if (line)
		file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
	if (file)
		n = snprintf(buf, len, "%s+0x%lx (%s:%d)", fn, (unsigned long)off,
			     tidy_file(file, flags), lineno);
	else
		n = snprintf(buf, len, "%s+0x%lx", fn, (unsigned long)off);
	return n > 0;
}

/**
 * pinmm_symbolize() - name the code address @addr.
 * @addr: an address in the process's code.
 * @flags: SYM_RETURN_ADDR when @addr is a return address (the line shown
 *	is then that of the call), SYM_SHORT_FILE for the base name of the
 *	source file only.
 * @buf, @len: where the name goes, always NUL-terminated.
 *
 * "function+0xoff (file.c:line)" when debug information has the line,
 * "function+0xoff" when only a symbol table does, "module+0xoff" when no
 * symbol covers @addr, the raw address when no module does.
 *
 * Context: any thread, any lock held (takes the leaf lock sym_lock).
 * Return: 2 with a file and line, 1 with a function name, 0 otherwise.
 */
int pinmm_symbolize(const void *addr, unsigned int flags, char *buf, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	Dl_info info;
	bool named;
	int found;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (!addr) {
		snprintf(buf, len, "(null)");
		return 0;
	}
	pthread_mutex_lock(&sym_lock);
	named = dwfl_name(a, flags, buf, len);
	pthread_mutex_unlock(&sym_lock);
	if (named)
		return strchr(buf, '(') ? 2 : 1;
	found = dladdr(addr, &info);
	if (found && info.dli_sname) {
		snprintf(buf, len, "%s+0x%lx", info.dli_sname,
			 (unsigned long)(a - (uintptr_t)info.dli_saddr));
		return 1;
	}
	if (found && info.dli_fname && info.dli_fbase) {
		const char *base = strrchr(info.dli_fname, '/');

		snprintf(buf, len, "%s+0x%lx", base ? base + 1 : info.dli_fname,
			 (unsigned long)(a - (uintptr_t)info.dli_fbase));
		return 0;
	}
	snprintf(buf, len, "%p", addr);
	return 0;
}

/**
 * pinmm_dump_stack() - print the calling thread's call trace to @out.
 * @from: the first frame to print (a return address: a splat passes its
 *	own __builtin_return_address(0), the site of the check), or NULL
 *	for the whole trace.
 *
 * One line per frame, innermost first, each prefixed "pinmm:  ", named by
 * pinmm_symbolize().  The frames come from glibc's backtrace(), which
 * walks the unwind tables every object of a normal build has.  Frames
 * inner to @from (this function, the reporting function) are left out by
 * address, not by count: how many there are depends on inlining, tail
 * calls and on sanitizers, whose backtrace() may differ; when @from is
 * not among the frames, all are printed.
 *
 * Context: any thread.
 */
void pinmm_dump_stack(FILE *out, const void *from)
{
	void *frames[STACK_MAX];
	int n = backtrace(frames, STACK_MAX), first = 0;

	for (int i = 0; from && i < n; i++)
		if (frames[i] == from) {
			first = i;
			break;
		}
	fputs("pinmm: Call Trace:\n", out);
	for (int i = first; i < n; i++) {
		char name[256];

		/* Each frame is a return address: its line is that of the call. */
		pinmm_symbolize(frames[i], SYM_RETURN_ADDR, name, sizeof(name));
		fprintf(out, "pinmm:  %s\n", name);
	}
}

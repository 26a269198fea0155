/* SPDX-License-Identifier: MIT */
/*
 * main.c - the `pinmm` command: subcommand dispatch, usage text and the
 * options of `pinmm run`.  Exit status: 0 ok, 1 failed expectation or
 * runtime failure, 2 usage error.  The script language is in script*.c, the
 * policy table of `pinmm demo` in demo_table.c, the guided tour in demo.c,
 * benchmarks in bench_cmd.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report.h"
#include "tool.h"

static void usage(FILE *f)
{
	fputs("Usage: pinmm COMMAND [ARGS...]\n"
	      "\n"
	      "A userspace Linux-style memory manager built around page pinning.\n"
	      "\n"
	      "Commands:\n"
	      "  run [OPTIONS] FILE...  run scenario scripts (FILE '-' is stdin)\n"
	      "  diff [OPTIONS] FILE... run scripts on pinmm and the host kernel, compare\n"
	      "  fuzz --diff [OPTIONS]  generated scripts on pinmm and the host, shrunk\n"
	      "  demo [OPTIONS]         the pinned-page policy table (--tour: guided tour)\n"
	      "  bench [ARGS...]        benchmarks (see 'pinmm bench --help')\n"
	      "  tracking [--json]      compare the pin-counting strategies\n"
	      "  fsck [--repair] IMAGE  check (and repair) a pinfs image\n"
	      "  torture [OPTIONS]      every operation at once, with an oracle\n"
	      "  explore [OPTIONS]      a race (--race NAME, or a FILE with thread blocks)\n"
	      "                         under the interleaving explorer (explore --help)\n"
	      "  help [run|commands]    this text, run's options, or every script command\n"
	      "  version                print the tool and library version\n"
	      "\n"
	      "Exit status: 0 success, 1 a failed expectation or runtime failure,\n"
	      "2 a usage or syntax error.  The scenario language is described in\n"
	      "doc/SCENARIOS.md and pinmm(1); examples/ has scripts to start from.\n", f);
}

static void run_usage(FILE *f)
{
	fputs("Usage: pinmm run [OPTIONS] FILE...\n"
	      "\n"
	      "Run scenario scripts in order, each on a fresh state ('-' reads stdin).\n"
	      "\n"
	      "Options:\n"
	      "  --tap          print TAP: one test point per expect line, plan at the end\n"
	      "  --json         print one JSON document of results instead of the text:\n"
	      "                 every line run, its outcome, expectations with their\n"
	      "                 values, every show as data (doc/SCENARIOS.md)\n"
	      "  --json=FILE    write that document to FILE, the text output unchanged\n"
	      "  -v, --verbose  echo each line before running it\n"
	      "  -q, --quiet    no per-file summary line\n"
	      "  -D NAME=VALUE  set the script parameter NAME ($NAME in the script;\n"
	      "                 overrides its 'param NAME DEFAULT'); repeatable\n"
	      "  --svg DIR      write the pictures of snapshot/step (NN-NAME.svg) and\n"
	      "                relative 'show svg' files into DIR\n"
	      "  --html FILE    write a self-contained HTML report: each line's outcome,\n"
	      "                the pictures, the timeline of each machine's trace\n"
	      "  --timeline TRACE  draw the Trace Event Format file TRACE in the report\n"
	      "  --trace FILE   write a Trace Event Format trace of each machine: FILE,\n"
	      "                 then FILE-2.json, ... (Perfetto, chrome://tracing; doc/TRACING.md)\n"
	      "  --host         run on the host kernel: real processes, pagemap (doc/DIFF.md)\n"
	      "  -h, --help     this text\n"
	      "\n"
	      "A script is one command per line; '#' starts a comment.  Values are\n"
	      "numbers (4096, 0x1000, 4K, 2M, 1G), variables and sums such as A+4K;\n"
	      "data is \"text\" (\\n \\t \\0 \\xHH escapes), BYTE*COUNT such as 0xab*4K,\n"
	      "or a variable set by load/pread.  A command that yields a value stores\n"
	      "it with a trailing '-> NAME'.  [P] is an optional process name; without\n"
	      "it the current process (last created, forked or 'use'd) is meant.\n"
	      "\n"
	      "Errors name FILE:LINE.  A library call that fails stops the script\n"
	      "(exit 1) unless the line is 'expect error ENAME COMMAND...'.  A failed\n"
	      "expect is reported and counted, the script goes on, and the exit status\n"
	      "becomes 1.  Syntax errors are found before anything runs (exit 2).\n"
	      "At the end a machine still booted is shut down; leaks make it fail.\n"
	      "\n", f);
	script_print_commands(f);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fputs("pinmm: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'pinmm help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* -D NAME=VALUE: NAME as script_is_ident(), VALUE anything (even empty). */
static bool define_ok(const char *d)
{
	const char *eq = strchr(d, '=');

	if (!eq || eq == d || !(isalpha((unsigned char)*d) || *d == '_'))
		return false;
	for (const char *p = d; p < eq; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

int pinmm_cmd_run(int argc, char **argv)
{
	struct run_opts o = { 0 };
	const char *html = NULL, *timeline = NULL;
	const char *json_path = NULL;
	bool json = false;
	int i, status = EXIT_OK;
	const char **defines = calloc(argc, sizeof(*defines));

	if (!defines)
		return EXIT_FAIL;
	o.defines = defines;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--tap")) {
			o.tap = true;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strncmp(a, "--json=", 7) && a[7]) {
			json = true;
			json_path = a + 7;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			o.verbose = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o.quiet = true;
		} else if (!strcmp(a, "--svg") || !strcmp(a, "--html") || !strcmp(a, "--timeline")) {
			if (i + 1 == argc) {
				free(defines);
				return bad_usage("run: %s needs an argument", a);
			}
			*(!strcmp(a, "--svg") ? &o.svg_dir : !strcmp(a, "--html") ? &html :
			  &timeline) = argv[++i];
		} else if (!strncmp(a, "-D", 2)) {
			const char *d = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);

			if (!d || !define_ok(d)) {
				free(defines);
				return bad_usage("run: -D wants NAME=VALUE, not '%s'", d ? d : "");
			}
			defines[o.ndefines++] = d;
		} else if (!strcmp(a, "--trace")) {
			if (++i == argc) {
				free(defines);
				return bad_usage("run: %s needs a FILE", a);
			}
			o.trace = argv[i];
		} else if (!strcmp(a, "--host")) {
			o.host = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			free(defines);
			run_usage(stdout);
			return EXIT_OK;
		} else {
			free(defines);
			return bad_usage("run: unknown option '%s'", a);
		}
	}
	if (i == argc) {
		free(defines);
		return bad_usage("run: no script given%s", "");
	}
	if (o.svg_dir && mkdir(o.svg_dir, 0777) && errno != EEXIST) {
		free(defines);
		return bad_usage("run: --svg: cannot create the directory '%s'", o.svg_dir);
	}
	if (html && !(o.report = report_new())) {
		free(defines);
		return bad_usage("run: %s", strerror(ENOMEM));
	}
	if (json && o.tap && !json_path) {
		free(defines);
		return bad_usage("run: --tap and --json both want stdout; use --json=FILE%s", "");
	}
	if (json && script_json_start(&o, json_path)) {
		free(defines);
		return bad_usage("run: %s", pinmm_strerror(-ENOMEM));
	}
	for (; i < argc; i++) {
		int rc = script_run_file(&o, argv[i]);

		if (rc > status)
			status = rc;
	}
	if (o.tap)
		printf("1..%d\n", o.tap_n);
	if (html) {
		/* The run's own traces (one per machine) are the timelines unless --timeline says. */
		int rc = html_write_run(html, o.report, timeline ? timeline : o.trace,
					timeline ? 1 : o.trace_boots);

		if (rc) {
			fprintf(stderr, "pinmm: run: cannot write %s: %s\n", html, strerror(-rc));
			status = EXIT_FAIL;
		}
		report_free(o.report);
	}
	free(defines);
	return script_json_finish(&o, status);
}

/* Replaced by bench_cmd.c when that file is built. */
__attribute__((weak)) int pinmm_cmd_bench(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("pinmm: bench: not built\n", stderr);
	return EXIT_USAGE;
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "run")) {
		run_usage(stdout);
		return EXIT_OK;
	}
	if (argc > 1 && !strcmp(argv[1], "commands")) {
		script_print_commands(stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return bad_usage("help: no help on '%s'", argv[1]);
	usage(stdout);
	return EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("pinmm %d.%d.%d (libpinmm %s)\n", PINMM_VERSION_MAJOR,
	       PINMM_VERSION_MINOR, PINMM_VERSION_PATCH, pinmm_version());
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "run", pinmm_cmd_run },
		{ "diff", pinmm_cmd_diff },
		{ "demo", pinmm_cmd_demo_table },
		{ "bench", pinmm_cmd_bench },
		{ "tracking", pinmm_cmd_tracking },
		{ "fsck", pinmm_cmd_fsck },
		{ "torture", pinmm_cmd_torture },
		{ "explore", pinmm_cmd_explore },
		{ "fuzz", pinmm_cmd_fuzz },
		{ "help", cmd_help },
		{ "--help", cmd_help },
		{ "-h", cmd_help },
		{ "version", cmd_version },
		{ "--version", cmd_version },
	};

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return bad_usage("unknown command '%s'", argv[1]);
}

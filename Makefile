# pinmm front door.  `make demo` and `make check` do all set-up on a fresh
# Debian machine: they install missing packages (as root), configure, build,
# then run the main job or the whole test suite.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
# make fuzz: seconds of fuzzing per target (doc/FUZZING.md).
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= script pinfs_image api
PREFIX     ?= /usr/local
MESON_OPTS ?=
# CI (.ci/run sets CI=true) builds with -Werror: a warning fails the run.
ifeq ($(CI),true)
MESON_OPTS += -Dwerror=true
endif

.PHONY: all deps build demo check test asan tsan install clean bench faultcheck crashcheck fuzz

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Ddebug_vm=true -Dlibdir=lib $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	$(BUILD)/tools/pinmm/pinmm demo

test: build
	meson test -C $(BUILD) --suite unit --suite scenario --suite stress --print-errorlogs

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Ddebug_vm=true -Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)

asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	meson test -C $(ASAN_BUILD) --suite unit --suite scenario --print-errorlogs

$(TSAN_BUILD)/build.ninja:
	CC=clang meson setup $(TSAN_BUILD) -Ddebug_vm=true -Db_sanitize=thread -Db_lundef=false -Dstress_seconds=3 $(MESON_OPTS) || \
	meson setup $(TSAN_BUILD) -Ddebug_vm=true -Db_sanitize=thread -Db_lundef=false -Dstress_seconds=3 $(MESON_OPTS)

tsan: deps $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD)
# tests/tsan.supp: liburcu internals only (see the file); never pinmm code.
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  meson test -C $(TSAN_BUILD) --suite stress --print-errorlogs

# The whole suite: debug build, then ASan+UBSan, then the concurrent tests
# under TSan; one closing "N passed, N failed" line over all of them.
check: build
	@MESON_OPTS="$(MESON_OPTS)" scripts/check.sh "$(BUILD)" "$(ASAN_BUILD)" "$(TSAN_BUILD)" "$(FUZZ_BUILD)"

# The fail-nth sweep (doc/FAULT-INJECTION.md) under ASan+UBSan, where a
# host-memory leak on an error path fails too; prints every site.
faultcheck: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) tests/fault_sweep
	PINMM_FAULT_SITES=1 PINMM_FAULT_EXCEPTIONS=$(CURDIR)/doc/FAULT-INJECTION.md \
	  ASAN_OPTIONS=detect_leaks=1 $(ASAN_BUILD)/tests/fault_sweep

# pinfs crash consistency (doc/PINFS.md): every write torn at all 7 offsets,
# every subset of up to 8 writes in the volatile cache at each cut.
crashcheck: build
	$(BUILD)/tests/crash_pinfs --long

# libFuzzer targets (doc/FUZZING.md) in a clang ASan+UBSan build with
# coverage instrumentation: each replays its regressions and seeds, then
# fuzzes for FUZZ_SECONDS; the working corpus stays in $(FUZZ_BUILD).
$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Ddebug_vm=true -Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)

fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) $(addprefix tests/fuzz/fuzz_,$(FUZZ_TARGETS))
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run_fuzz.sh $(FUZZ_BUILD)/tests/fuzz/fuzz_$$t $$t \
	    $(CURDIR)/tests/fuzz $(FUZZ_BUILD)/tests/fuzz || rc=1; \
	done; exit $$rc

bench: build
	$(BUILD)/tools/pinmm/pinmm bench --host

install: deps
	meson setup --reconfigure $(BUILD) -Dprefix=$(abspath $(PREFIX)) -Dlibdir=lib $(MESON_OPTS) 2>/dev/null || \
	  meson setup $(BUILD) -Dprefix=$(abspath $(PREFIX)) -Dlibdir=lib $(MESON_OPTS)
	ninja -C $(BUILD)
	meson install -C $(BUILD) --no-rebuild

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)

# libchan: one Makefile, no recursion into subdirectories, no configure.
#
#   make                 build/libchan.a, build/libchan.so
#   make check           Check suites, tests/*.sh, examples, man page lint
#   make install PREFIX=/usr/local DESTDIR=$PWD/stage
#   make asan | tsan | ubsan    rebuild under build/<san>/ and run check there
#   make portable        the same with pthread mutexes (-DCHAN_NO_FUTEX)
#   make valgrind        helgrind and memcheck over the suites (as CI does)
#   make m32 | arm64     check as a 32-bit x86 / an aarch64 program (as CI does)
#   make stress          the stress drivers in tests/stress/, long (about 5 min)
#   make model           SPIN checks every interleaving of the waiter
#                        hand-off's model in tests/model/ (needs spin)
#   make model-mutants   and that it rejects each of the model's mutants
#   make model-progress  the model searched for livelocks (about 90 s)
#   make fuzz            the differential fuzzer, tests/fuzz/, under libFuzzer
#                        (clang) for FUZZ_SECONDS (60) or FUZZ_RUNS inputs
#   make bench           the benchmarks (about 3 min); make bench-full, 15 runs
#   make demo            the worker pool server under its own load

CC	?= cc
CFLAGS	?= -O2 -g
LDFLAGS	?=
PREFIX	?= /usr/local
LIBDIR	?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR	?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BUILD	?= build

VERSION	= 1.0.0
SOMAJOR	= 1
SONAME	= libchan.so.$(SOMAJOR)

# Flags every build gets, whatever CFLAGS says.
STD	= -std=c11 -D_POSIX_C_SOURCE=200809L -pthread
WARN	= -Wall -Wextra
XCFLAGS	= $(STD) $(WARN) -Iinclude $(CFLAGS)
LIBFLAGS = $(XCFLAGS) -fvisibility=hidden

CHECK_CFLAGS != pkg-config --cflags check 2>/dev/null || true
CHECK_LIBS != pkg-config --libs check 2>/dev/null || echo -lcheck

SRCS	= $(wildcard src/*.c)
HDRS	= include/chan.h $(wildcard src/*.h)
OBJS	= $(SRCS:src/%.c=$(BUILD)/obj/%.o)
PICOBJS	= $(SRCS:src/%.c=$(BUILD)/pic/%.o)
STATIC	= $(BUILD)/libchan.a
SHARED	= $(BUILD)/libchan.so

TEST_SRCS = $(wildcard tests/check_*.c)
TEST_HDRS = $(wildcard tests/*.h)
TESTS	= $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_SCRIPTS = $(wildcard tests/*.sh)

EXAMPLE_SRCS = $(wildcard examples/*.c)
EXAMPLES = $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)

STRESS_SRCS = $(wildcard tests/stress/*.c)
STRESS	= $(STRESS_SRCS:tests/stress/%.c=$(BUILD)/stress/%)

# The fuzzer's decoder and model, and the driver that replays its corpus
# in make check; make fuzz links the same decoder with libFuzzer.
FUZZ_SRC = tests/fuzz/chan_fuzz.c
REPLAY	= $(BUILD)/fuzz/replay

BENCH_SRCS = $(wildcard bench/*.c)
BENCH_HDRS = $(wildcard bench/*.h)
BENCH	= $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
BENCH_LIBS = -lck -lm

MAN3	= $(wildcard man/man3/*.3)
MAN7	= $(wildcard man/man7/*.7)
# Every name a page documents besides its own: installed as links.
MLINKS	= chan_create.3:chan_destroy.3 \
	  chan_send.3:chan_trysend.3 chan_send.3:chan_timedsend.3 \
	  chan_send.3:chan_sendn.3 chan_send.3:chan_trysendn.3 \
	  chan_send.3:chan_timedsendn.3 \
	  chan_recv.3:chan_tryrecv.3 chan_recv.3:chan_timedrecv.3 \
	  chan_recv.3:chan_recvn.3 chan_recv.3:chan_tryrecvn.3 \
	  chan_recv.3:chan_timedrecvn.3 \
	  chan_len.3:chan_cap.3 \
	  chan_select.3:chan_tryselect.3 chan_select.3:chan_timedselect.3 \
	  chan_bcast.3:chan_bcast_create.3 chan_bcast.3:chan_bcast_destroy.3 \
	  chan_bcast.3:chan_bcast_subscribe.3 \
	  chan_bcast.3:chan_bcast_unsubscribe.3 \
	  chan_bcast.3:chan_bcast_send.3 chan_bcast.3:chan_bcast_close.3

.PHONY: m32 arm64 all check test-bin run-tests lint-man install uninstall clean \
	asan tsan ubsan portable valgrind bench bench-full stress demo examples \
	model model-mutants model-progress fuzz

all: $(STATIC) $(SHARED) $(BUILD)/chan.pc

$(BUILD)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIBFLAGS) -c -o $@ $<

# The shared library reaches its thread-local waiter (chan__self) through
# TLS descriptors where the compiler offers them (gcc on x86-64): a short
# call instead of __tls_get_addr on every select and every wait, and
# dlopen still works.  A select pair through libchan.so, one thread:
# 43.4 -> 39.0 ns.
TLSFLAGS != $(CC) -fPIC -mtls-dialect=gnu2 -c -x c -o /dev/null /dev/null \
	2>/dev/null && echo -mtls-dialect=gnu2 || true

$(BUILD)/pic/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIBFLAGS) -fPIC $(TLSFLAGS) -c -o $@ $<

$(STATIC): $(OBJS)
	rm -f $@
	$(AR) rcs $@ $(OBJS)

# -z nodelete: dlclose() leaves libchan loaded.  Every thread that has
# waited in it holds a waiter whose cleanup (a thread-specific key's
# destructor) runs at that thread's exit, which may come after the unload;
# and each load would take a key of the process's 1024 and never give it
# back.  tests/dlopen.sh checks both.
$(SHARED): $(PICOBJS) Makefile
	$(CC) $(XCFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,-z,nodelete \
	    $(LDFLAGS) \
	    -o $@.$(VERSION) $(PICOBJS)
	ln -sf libchan.so.$(VERSION) $@.$(SOMAJOR)
	ln -sf libchan.so.$(VERSION) $@

# The install rule runs PCSED itself: a chan.pc built earlier with another
# PREFIX (make; make install PREFIX=/usr) would otherwise be installed stale.
# Directories under PREFIX are written as ${prefix}/..., so that
# pkg-config --define-prefix can relocate an installed tree.
PCREL	= $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
PCSED	= -e 's|@PREFIX@|$(PREFIX)|g' \
	  -e 's|@LIBDIR@|$(call PCREL,$(LIBDIR))|g' \
	  -e 's|@INCLUDEDIR@|$(call PCREL,$(INCLUDEDIR))|g' \
	  -e 's|@VERSION@|$(VERSION)|g'

$(BUILD)/chan.pc: chan.pc.in Makefile
	@mkdir -p $(@D)
	sed $(PCSED) chan.pc.in > $@

# Tests link the static library so they need no LD_LIBRARY_PATH; src/ is
# on the include path for the few white-box tests.  A check_*_window test
# compiles one file of src/ itself (#include "select.c", "chan.c"), with
# a hook of its own where the library has none; it defines every global
# symbol of that file, so the linker takes nothing from that file's
# object in the archive, and the archive's dependency on src/ rebuilds
# the test.
# LINK_<test> adds link flags for one test: check_alloc wraps the allocator
# (-Wl,--wrap) to fail each allocation the library makes in turn.
LINK_check_alloc = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc \
	-Wl,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=free
$(BUILD)/tests/%: tests/%.c $(TEST_HDRS) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) -Isrc $(CHECK_CFLAGS) -o $@ $< $(STATIC) \
	    $(LINK_$*) $(LDFLAGS) $(CHECK_LIBS) -lm

$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) -o $@ $< $(STATIC) $(LDFLAGS)

$(BUILD)/stress/%: tests/stress/%.c $(wildcard tests/stress/*.h) tests/seed.h \
    $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) -o $@ $< $(STATIC) $(LDFLAGS) -lm

$(REPLAY): tests/fuzz/replay.c $(FUZZ_SRC) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) -o $@ tests/fuzz/replay.c $(FUZZ_SRC) $(STATIC) \
	    $(LDFLAGS)

$(BUILD)/bench/%: bench/%.c $(BENCH_HDRS) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) -D_GNU_SOURCE -o $@ $< $(STATIC) $(LDFLAGS) \
	    $(BENCH_LIBS)

examples: $(EXAMPLES)

test-bin: all $(TESTS) $(EXAMPLES) $(STRESS) $(BENCH) $(REPLAY)

# Each Check suite, then each tests/*.sh (given BUILD), then the man lint.
# Each gets TEST_TIMEOUT seconds (where timeout(1) exists), so that an
# example that deadlocks fails make check instead of hanging it, and a
# suite whose every test runs into its own Check timeout (a lost wake-up
# does that to check_stress: two hours) fails within the limit.
TEST_TIMEOUT ?= 600
run-tests: test-bin
	@set -e; to=; command -v timeout >/dev/null 2>&1 && \
	    to="timeout $(TEST_TIMEOUT)"; \
	for t in $(TESTS); do echo "== $$t"; $$to $$t; done; \
	for s in $(TEST_SCRIPTS); do echo "== $$s"; \
	    BUILD=$(BUILD) CC="$(CC)" $$to sh $$s; done

lint-man:
	@if command -v mandoc >/dev/null 2>&1; then \
	    echo "== mandoc -Tlint -W warning"; \
	    out=$$(mandoc -Tlint -W warning $(MAN3) $(MAN7) 2>&1); \
	    if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	else echo "== mandoc not installed: man pages not linted"; fi

check: run-tests lint-man

SANFLAGS_asan	= -fsanitize=address,undefined -fno-omit-frame-pointer
SANFLAGS_tsan	= -fsanitize=thread
SANFLAGS_ubsan	= -fsanitize=undefined -fno-sanitize-recover=undefined
# ASan's thread teardown reports a stack-buffer-overflow in its own
# sigaltstack call when a pthread_cancel unwound the thread's frames, which
# it leaves poisoned (google/sanitizers#1399): whether it hits depends on
# how deep the cancelled frames were.  Without the alternate signal stack
# there is no such call.
asan tsan ubsan:
	rm -rf $(BUILD)/$@
	ASAN_OPTIONS="use_sigaltstack=0$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}" \
	    $(MAKE) BUILD=$(BUILD)/$@ CFLAGS="-O1 -g $(SANFLAGS_$@)" \
	    LDFLAGS="$(SANFLAGS_$@)" CK_FORK=no check

# The library with pthread mutexes for the channel locks instead of the
# Linux futex lock (src/lock.c): the portable path, checked like the other.
portable:
	$(MAKE) BUILD=$(BUILD)/portable CFLAGS="$(CFLAGS) -DCHAN_NO_FUTEX" check

# Helgrind and memcheck, on a portable build that tells helgrind about the
# library's atomics (-DCHAN_VALGRIND): what CI runs after the sanitizers.
valgrind:
	BUILD=$(BUILD) bash .ci/run.d/20-valgrind.sh

# The library and its tests as a 32-bit program (gcc -m32; installs the
# i386 packages it needs, as root): what CI runs after musl.
m32:
	bash .ci/run.d/55-m32.sh

# The library and its tests as an aarch64 program, cross-compiled and run
# under qemu-user (installs the packages it needs, as root; unpacks the
# cross compiler, which conflicts with gcc-multilib): what CI runs after
# m32.
arm64:
	bash .ci/run.d/57-arm64.sh

RUNS	?= 5
bench: $(BENCH)
	RUNS=$(RUNS) BUILD=$(BUILD) sh bench/run.sh

# bench-full takes 15 runs a cell unless RUNS is given (make bench-full RUNS=7).
bench-full: $(BENCH)
	RUNS=$(if $(filter command line environment,$(origin RUNS)),$(RUNS),15) \
	    FULL=1 BUILD=$(BUILD) sh bench/run.sh

# Every driver runs, even after one failed: each failure says what it was.
stress: $(STRESS)
	@status=0; for t in $(STRESS); do echo "== $$t"; \
	    STRESS_FULL=1 $$t || { echo "FAIL: $$t"; status=1; }; done; \
	    exit $$status

# The waiter hand-off protocol (waiter.c, chan.c, select.c) as a Promela
# model: SPIN explores every interleaving of each scenario of
# tests/model/ (about 20 s here, two verifiers at a time; apt-get install
# spin), and rejects each of the model's mutants, a bug the C code could
# have (about 20 s).  A failure leaves its trail in $(BUILD)/model/;
# tests/model/run.sh says how to read it, and MODEL_JOBS=1 runs one
# verifier at a time.
model:
	BUILD=$(BUILD) sh tests/model/run.sh

model-mutants:
	BUILD=$(BUILD) sh tests/model/run.sh mutants

# The same scenarios searched for a livelock instead (a cycle in which no
# call returns): about 80 s here, not run by CI.
model-progress:
	BUILD=$(BUILD) sh tests/model/run.sh progress
# The fuzzer: tests/fuzz/chan_fuzz.c and the library's sources built
# together with clang's libFuzzer, ASan and UBSan (coverage guides it
# through the library too), run from the committed corpus for FUZZ_SECONDS
# (0: no limit) or FUZZ_RUNS inputs (-1: no limit), whichever ends first.
# New inputs go to $(BUILD)/fuzz/corpus, a failing one to
# $(BUILD)/fuzz/crash-* (a mismatch with the model, a sanitizer's report)
# or timeout-* (an input running past 20 s: a call that waits where the
# model says it cannot); build/fuzz/replay FILE, or the fuzzer given FILE,
# repeats it (CHAN_FUZZ_TRACE=1 prints every call).  FUZZ_FLAGS passes
# libFuzzer more, e.g. -seed=N.
FUZZ_CC	?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?= -1
FUZZ_FLAGS ?=
FUZZ_SAN = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzz/chan_fuzz: $(FUZZ_SRC) $(SRCS) $(HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(STD) $(WARN) -Iinclude -O1 -g $(FUZZ_SAN) -o $@ \
	    $(FUZZ_SRC) $(SRCS)

fuzz: $(BUILD)/fuzz/chan_fuzz
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/chan_fuzz -max_total_time=$(FUZZ_SECONDS) \
	    -runs=$(FUZZ_RUNS) -timeout=20 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/ $(FUZZ_FLAGS) \
	    $(BUILD)/fuzz/corpus tests/fuzz/corpus

demo: $(BUILD)/examples/worker_pool_server
	$(BUILD)/examples/worker_pool_server --demo

install: all
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(MANDIR)/man7
	install -m 644 include/chan.h $(DESTDIR)$(INCLUDEDIR)/chan.h
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libchan.a
	install -m 755 $(SHARED).$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/libchan.so.$(VERSION)
	ln -sf libchan.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libchan.so
	sed $(PCSED) chan.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/chan.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/chan.pc
	for m in $(MAN3); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man3; done
	for m in $(MAN7); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man7; done
	for l in $(MLINKS); do \
	    ln -sf $${l%%:*} $(DESTDIR)$(MANDIR)/man3/$${l##*:}; done

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/chan.h $(DESTDIR)$(LIBDIR)/libchan.a \
	    $(DESTDIR)$(LIBDIR)/libchan.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libchan.so \
	    $(DESTDIR)$(PKGCONFIGDIR)/chan.pc
	for m in $(MAN3); do rm -f $(DESTDIR)$(MANDIR)/man3/$${m##*/}; done
	for m in $(MAN7); do rm -f $(DESTDIR)$(MANDIR)/man7/$${m##*/}; done
	for l in $(MLINKS); do rm -f $(DESTDIR)$(MANDIR)/man3/$${l##*:}; done

clean:
	rm -rf $(BUILD)

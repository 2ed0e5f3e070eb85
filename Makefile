# ktls-bench: one build for everything.
#
#   make            build bin/ and build/ (checks the Debian packages first and
#                   stops, naming `make deps`, when one needed to build is missing)
#   make test       build, then run host tests and the kTLS tests (VM or native)
#   make bench      build, then run the quick benchmark suite into results/
#   make deps       install missing Debian packages (as root); make test and
#                   make bench do it first, nothing else runs apt-get
#   make asan       build with ASan+UBSan into build/asan and run the host tests
#   make nodeprecated  build with OpenSSL's deprecated APIs hidden (what OpenSSL 4
#                   removes; no osslshim/) into build/nodeprecated, run the host tests
#   make test-trixie   build and run the host tests in a Debian 13 root (OpenSSL 3.5)
#   make vm-test    run tests/vm inside the QEMU kernels (or natively with kTLS)
#   make cost       instruction counts (QEMU icount) of bench/suites/cost on both
#                   VM kernels, with nginx (COST_NGINX=0: without), into
#                   results/<date>-<time>-cost/ (docs/cost-lab.md)
#   make cost-check the key counts against bench/cost-baseline (fails on growth
#                   beyond COST_TOLERANCE percent, default 2)
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each
#   make soak       the ASan server under good and hostile clients for SOAK_SECONDS (60)
#   make certs      generate the test certificates into build/certs
#   make install    programs, man pages, libktls.a, ktls/ktls.h and libktls.pc
#                   under DESTDIR/PREFIX (PREFIX=/usr/local)
#   make clean
#
# V=1 shows the full commands.

CC         ?= gcc
CFLAGS     ?= -O2 -g -Wall -Wextra
PKG_CONFIG ?= pkg-config
PKGS       := liburing openssl libcjson libsodium zlib

BUILD ?= build
BIN   ?= bin

# Recursively expanded so pkg-config runs only when something is compiled
# (after `make deps` had its chance to install the packages).
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))

override CFLAGS  += -std=gnu11 -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP $(OPENSSL_API_FLAGS)
override LDLIBS  += $(PKG_LIBS) -lpthread -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

# --- which code a build is: --version and every JSON carry these ------------
PROJECT_VERSION := 0.1.0
# The commit: `git describe --always --dirty` in this checkout ("-dirty" when
# tracked files differ from it); KTLS_BENCH_COMMIT=... for a build from a
# tarball; otherwise "unknown". version_gen.h is rewritten only when the text
# changes, so a new HEAD (or an edit) rebuilds common/version.o alone and
# relinks the programs.
BUILD_COMMIT = $(or $(KTLS_BENCH_COMMIT),$(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
		 git describe --always --dirty --abbrev=12 2>/dev/null),unknown)
VERSION_GEN := $(BUILD)/gen/version_gen.h

# --- sources: each top-level folder is one program or library -------------
COMMON_SRC := $(wildcard common/*.c)
SHIM_SRC   := $(wildcard osslshim/*.c)
KTLS_SRC   := $(wildcard ktls/*.c)
TOOL_SRC   := $(wildcard ktls/tool/*.c)
SERVER_SRC := $(wildcard server/*.c)
CLIENT_SRC := $(wildcard client/*.c)
BENCH_SRC  := $(wildcard bench/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)
VMT_SRC    := $(wildcard tests/vm/*.c)
HELP_SRC   := $(wildcard tests/helpers/*.c)
# ktls-client-mpi: the client's objects plus client/mpi/ (compiled with Open
# MPI's flags), built where pkg-config finds Open MPI (make deps installs it).
MPI_SRC    := $(wildcard client/mpi/*.c)
MPI_PKG    := ompi-c
HAVE_MPI   := $(shell $(PKG_CONFIG) --exists $(MPI_PKG) 2>/dev/null && echo 1)
FUZZ_SRC   := $(wildcard tests/fuzz/*.c)
# Man pages: man/NAME.SECTION.scd -> build/man/NAME.SECTION (scdoc).
MAN_SRC    := $(wildcard man/*.scd)
MAN_PAGES  := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRC))
SCDOC      ?= scdoc

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
# A program's main() lives in <dir>/main.c; everything else in the folder
# also goes into build/lib<dir>.a so unit tests can link it.
nomain = $(filter-out %/main.o,$(call obj,$(1)))

LIBCOMMON := $(BUILD)/libcommon.a
LIBSHIM   := $(BUILD)/libosslshim.a
LIBKTLS   := $(BUILD)/libktls.a
LIBSERVER := $(BUILD)/libserver.a
LIBCLIENT := $(BUILD)/libclient.a
LIBBENCH  := $(BUILD)/libbench.a

PROGS := $(BIN)/ktls
ifneq ($(SERVER_SRC),)
PROGS += $(BIN)/ktls-server
endif
ifneq ($(CLIENT_SRC),)
PROGS += $(BIN)/ktls-client
endif
ifneq ($(BENCH_SRC),)
PROGS += $(BIN)/ktls-bench
endif
ifneq ($(MPI_SRC),)
ifeq ($(HAVE_MPI),1)
PROGS += $(BIN)/ktls-client-mpi
endif
endif

UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
VMT_BINS  := $(patsubst tests/vm/%.c,$(BUILD)/tests/vm/%,$(VMT_SRC))
HELP_BINS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELP_SRC))
TEST_BINS := $(UNIT_BINS) $(VMT_BINS) $(HELP_BINS)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzzers/%,$(FUZZ_SRC))

# Libraries every program and test links, most dependent first.
APP_LIBS  = $(LIBSERVER) $(LIBCLIENT) $(LIBBENCH) $(LIBSHIM) $(LIBKTLS) $(LIBCOMMON)

.PHONY: all deps check-deps programs man install tests test test-host vm-test asan fuzz fuzzers bench certs clean soak FORCE \
	cost cost-check \
	nodeprecated test-trixie
.DEFAULT_GOAL := all
# Keep objects of test programs (make would delete them as intermediates).
.SECONDARY:

all: programs

deps:
	$(Q)scripts/deps.sh

check-deps:
	$(Q)scripts/deps.sh --check

programs: $(PROGS) man
man: $(MAN_PAGES)
tests: $(PROGS) $(TEST_BINS) $(MAN_PAGES)

# --- libraries -------------------------------------------------------------
$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBSHIM):   $(call obj,$(SHIM_SRC))
$(LIBKTLS):   $(call obj,$(KTLS_SRC))
$(LIBSERVER): $(call nomain,$(SERVER_SRC))
$(LIBCLIENT): $(call nomain,$(CLIENT_SRC))
$(LIBBENCH):  $(call nomain,$(BENCH_SRC))

$(BUILD)/%.a:
	@mkdir -p $(@D)
	@echo "  AR    $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^ $(if $^,,$(BUILD)/empty.o)

$(BUILD)/empty.o:
	@mkdir -p $(@D)
	$(Q)echo 'typedef int ktls_bench_empty_unit;' | $(CC) -x c -c -o $@ -

# An empty folder still gets a (valid, empty) archive.
$(LIBSERVER) $(LIBCLIENT) $(LIBBENCH): | $(BUILD)/empty.o

# --- objects -----------------------------------------------------------------
$(VERSION_GEN): FORCE
	@mkdir -p $(@D)
	$(Q)t=$@.tmp.$$$$; printf '#define KTLS_BENCH_VERSION "%s"\n#define KTLS_BENCH_COMMIT "%s"\n' \
		'$(PROJECT_VERSION)' '$(BUILD_COMMIT)' >$$t; \
	if cmp -s $$t $@; then rm -f $$t; else mv $$t $@ && echo "  GEN   $@ ($(BUILD_COMMIT))"; fi
$(BUILD)/common/version.o: $(VERSION_GEN)
$(BUILD)/common/version.o: CPPFLAGS += -I$(BUILD)/gen
FORCE:

# Whatever compiles first checks the Debian packages (never installs them).
$(BUILD)/%.o: %.c | check-deps
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(BUILD)/man/%: man/%.scd | check-deps
	@mkdir -p $(@D)
	@echo "  SCDOC $@"
	$(Q)$(SCDOC) <$< >$@.tmp && mv $@.tmp $@

# --- programs ----------------------------------------------------------------
$(BIN)/ktls: $(call obj,$(TOOL_SRC)) $(LIBKTLS) $(LIBCOMMON)
$(BIN)/ktls-server: $(call obj,$(SERVER_SRC)) $(LIBSHIM) $(LIBKTLS) $(LIBCOMMON)
$(BIN)/ktls-client: $(call obj,$(CLIENT_SRC)) $(LIBSHIM) $(LIBKTLS) $(LIBCOMMON)
$(BIN)/ktls-bench: $(call obj,$(BENCH_SRC)) $(LIBKTLS) $(LIBCOMMON)
$(BIN)/ktls-client-mpi: $(call obj,$(MPI_SRC)) $(LIBCLIENT) $(LIBSHIM) $(LIBKTLS) $(LIBCOMMON)
$(BIN)/ktls-client-mpi: LDLIBS += $(shell $(PKG_CONFIG) --libs $(MPI_PKG))
$(call obj,$(MPI_SRC)): CPPFLAGS += $(shell $(PKG_CONFIG) --cflags $(MPI_PKG))

$(BIN)/%:
	@mkdir -p $(@D)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# --- test programs: one .c each, linked against every library --------------
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(APP_LIBS)
	@mkdir -p $(@D)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(APP_LIBS) $(LDLIBS)

# --- libFuzzer targets: one .c each in tests/fuzz, built by `make fuzzers`
# (clang, into build/fuzz) and run by scripts/fuzz.sh.
$(BUILD)/fuzzers/%: $(BUILD)/tests/fuzz/%.o $(APP_LIBS)
	@mkdir -p $(@D)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(APP_LIBS) $(LDLIBS)

FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	       -fno-sanitize-recover=undefined -Wall -Wextra
fuzzers:
	$(Q)$(MAKE) --no-print-directory CC=clang BUILD=build/fuzz BIN=build/fuzz/bin \
		CFLAGS="$(FUZZ_CFLAGS)" fuzz-bins
fuzz-bins: $(FUZZ_BINS)

# --- certificates for tests and benchmarks ---------------------------------
certs: $(BUILD)/certs/.done
$(BUILD)/certs/.done: scripts/certs.sh
	$(Q)scripts/certs.sh $(BUILD)/certs
	@touch $@

# --- running -----------------------------------------------------------------
# The closing line of `make test` counts every test, host and kTLS together.
test: deps
	$(Q)$(MAKE) --no-print-directory tests certs
	$(Q)KTLS_BIN=$(abspath $(BIN)) KTLS_BUILD=$(abspath $(BUILD)) tests/run --all

test-host: tests certs
	$(Q)KTLS_ASAN=$(KTLS_ASAN) KTLS_SHIMS=$(KTLS_SHIMS) KTLS_BIN=$(abspath $(BIN)) KTLS_BUILD=$(abspath $(BUILD)) \
		tests/run --host

vm-test: check-deps
	$(Q)$(MAKE) --no-print-directory tests certs
	$(Q)KTLS_BIN=$(abspath $(BIN)) KTLS_BUILD=$(abspath $(BUILD)) tests/run --ktls

ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	      -fno-sanitize-recover=undefined -Wall -Wextra
# Leaks fail the run (LeakSanitizer's exit status), as does any UBSan report.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:$(ASAN_OPTIONS) \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:$(UBSAN_OPTIONS)
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin \
	    CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined"
asan: check-deps
	$(Q)$(ASAN_ENV) $(ASAN_MAKE) KTLS_ASAN=1 test-host

# OpenSSL's deprecated APIs hidden, as OpenSSL 4 removes them (ENGINE,
# EVP_PKEY_METHOD, EC_KEY, ...): osslshim/ compiles to stubs, the programs run
# stock OpenSSL paths, and the host tests expect that (KTLS_SHIMS=0).
NODEPRECATED_FLAGS := -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED
nodeprecated: check-deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/nodeprecated BIN=build/nodeprecated/bin \
		OPENSSL_API_FLAGS="$(NODEPRECATED_FLAGS)" KTLS_SHIMS=0 test-host

# A Debian 13 root (OpenSSL 3.5) made once with mmdebstrap under
# ~/.cache/ktls-bench (KTLS_ROOT_CACHE): build there into build/trixie and run
# the host tests (scripts/debian-root.sh). The root has no git that sees this
# checkout: the build takes its commit from here (KTLS_BENCH_COMMIT).
TRIXIE_CFLAGS ?= -O2 -g -Wall -Wextra -Werror
TRIXIE_MAKE = make -j$(or $(JOBS),2) BUILD=build/trixie BIN=build/trixie/bin CFLAGS="$(TRIXIE_CFLAGS)"
test-trixie:
	$(Q)KTLS_BENCH_COMMIT=$(BUILD_COMMIT) scripts/debian-root.sh --suite trixie -- \
		sh -c '$(TRIXIE_MAKE) all && $(TRIXIE_MAKE) test-host'

# SOAK_SECONDS of mixed good and hostile clients against the ASan server.
soak: check-deps
	$(Q)$(ASAN_MAKE) programs tests certs
	$(Q)$(ASAN_ENV) KTLS_BIN=$(abspath build/asan/bin) KTLS_BUILD=$(abspath build/asan) \
		scripts/soak.sh --seconds $(or $(SOAK_SECONDS),60)

# FUZZ_SECONDS per target (default 60).
fuzz: check-deps
	$(Q)$(MAKE) --no-print-directory fuzzers
	$(Q)scripts/fuzz.sh --seconds $(or $(FUZZ_SECONDS),60)

bench: deps
	$(Q)$(MAKE) --no-print-directory programs certs
	$(Q)scripts/bench.sh

# The cost lab: every kernel's guest under QEMU icount (scripts/cost.sh).
COST_KERNELS ?= bookworm,trixie-backports
cost: deps
	$(Q)$(MAKE) --no-print-directory programs certs
	$(Q)KTLS_BIN=$(abspath $(BIN)) KTLS_BUILD=$(abspath $(BUILD)) scripts/cost.sh --kernel $(COST_KERNELS) \
		$(if $(filter 0,$(COST_NGINX)),,--nginx) $(if $(COST_OUT),--out $(COST_OUT))

cost-check: deps
	$(Q)$(MAKE) --no-print-directory programs certs
	$(Q)KTLS_BIN=$(abspath $(BIN)) KTLS_BUILD=$(abspath $(BUILD)) scripts/cost.sh --kernel $(COST_KERNELS) \
		--suite cost-check --no-ceiling --no-plots --out $(BUILD)/cost-check \
		--check bench/cost-baseline $(if $(COST_TOLERANCE),--tolerance $(COST_TOLERANCE))

# --- installing ----------------------------------------------------------------
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PCDIR      ?= $(LIBDIR)/pkgconfig
INSTALL    ?= install

# libktls.pc is written at install time, for this PREFIX. libktls is a static
# library: its users link OpenSSL themselves (pkg-config --static adds
# Libs.private).
install: programs $(LIBKTLS)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PCDIR) \
		$(DESTDIR)$(INCLUDEDIR)/ktls $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	$(INSTALL) -m 755 $(PROGS) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 644 $(LIBKTLS) $(DESTDIR)$(LIBDIR)
	$(INSTALL) -m 644 ktls/ktls.h $(DESTDIR)$(INCLUDEDIR)/ktls
	$(INSTALL) -m 644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 644 $(filter %.3,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man3
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
		'Name: libktls' \
		'Description: move an OpenSSL TLS session'"'"'s record layer into the Linux kernel (kTLS)' \
		'Version: $(PROJECT_VERSION)' \
		'Cflags: -I$${includedir}' \
		'Libs: -L$${libdir} -lktls' \
		'Libs.private: -lssl -lcrypto -lpthread' >$(DESTDIR)$(PCDIR)/libktls.pc
	chmod 644 $(DESTDIR)$(PCDIR)/libktls.pc

clean:
	rm -rf $(BUILD) $(BIN)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# synthhost -- see README.md.
#
#   make            build the host, the plugins and the tests into $(BUILD)
#   make demo       install missing packages, build, run on the example log
#   make test       build and run every test
#   make test SANITIZE=1   the same under AddressSanitizer + UBSan (build-san/)
#   make test SANITIZE=thread   the same under ThreadSanitizer (build-tsan/)
#   make valgrind   run the host on the example log under valgrind
#   make bench      throughput and peak memory on generated 10 MB-1 GB logs
#   make mutants    each bug of tests/mutants/mutants.txt must fail a test
#   make install    PREFIX=/usr/local DESTDIR=: host, plugins, SDK, man pages
#   make uninstall
#   make clean

CC      ?= cc
SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD   ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer
else ifeq ($(SANITIZE),thread)
# ThreadSanitizer: the pipeline's threads and the plugins they share
BUILD   ?= build-tsan
SANFLAGS = -fsanitize=thread
else
BUILD   ?= build
SANFLAGS =
endif

# The host's allocator.  A run makes and frees millions of small jansson
# values on three threads, some freed on another thread than the one that
# made them; glibc malloc spent a third of the CPU there (perf, make bench).
# jemalloc, as Redis uses it, serves the whole process -- jansson and the
# plugins too.  MALLOC=libc keeps glibc's; the sanitizers need their own.
ifneq ($(SANITIZE),)
MALLOC  ?= libc
else
MALLOC  ?= jemalloc
endif
ifeq ($(MALLOC),jemalloc)
MALLOC_LIBS := $(shell pkg-config --libs jemalloc 2>/dev/null || echo -ljemalloc)
else
MALLOC_LIBS :=
endif

PKGS     = jansson libconfig
DEPCFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lconfig)
CMOCKA    := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

JANSSON_LIBS := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CFLAGS  ?= -O2 -g
BASECFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP
# The core sees its own headers; a plugin sees only sdk/ and jansson.
ALLCFLAGS = $(BASECFLAGS) -Isdk -Icore $(DEPCFLAGS)
LDLIBS   = $(DEPLIBS) -ldl -lpthread -lm
PLUGIN_INC ?= -Isdk
PLUGIN_CFLAGS = $(BASECFLAGS) $(PLUGIN_INC) -fPIC -fvisibility=hidden -shared

CORE_SRC  = $(filter-out core/main.c,$(wildcard core/*.c))
CORE_OBJ  = $(CORE_SRC:%.c=$(BUILD)/%.o)
LIB       = $(BUILD)/libsynth.a
HOST      = $(BUILD)/synthhost

SDK_HEADERS = $(wildcard sdk/*.h)
PLUGIN_DIRS = $(patsubst %/,%,$(wildcard plugins/*/))
PLUGINS     = $(PLUGIN_DIRS:plugins/%=$(BUILD)/plugins/%.so)

UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
INTEG_BIN = $(BUILD)/tests/integration $(BUILD)/tests/formats $(BUILD)/tests/privacy \
            $(BUILD)/tests/analyze $(BUILD)/tests/live $(BUILD)/tests/crash \
            $(BUILD)/tests/live_crash $(BUILD)/tests/cases
INSTALL_BIN = $(BUILD)/tests/install
TESTUTIL  = $(BUILD)/tests/testutil.o $(BUILD)/tests/oracle.o $(BUILD)/tests/chatcheck.o

# Test plugins: one source, built once per variant (tests/plugins/README).
TP = $(BUILD)/tests/plugins
TEST_PLUGINS = $(TP)/good.so $(TP)/abi-major.so $(TP)/abi-newer.so \
               $(TP)/no-entry.so $(TP)/small-struct.so $(TP)/too-small.so \
               $(TP)/init-fails.so $(TP)/bad-default.so $(TP)/bad-name.so \
               $(TP)/abi-1.0.so $(TP)/abi-1.1.so $(TP)/bad-info.so

all: $(HOST) $(PLUGINS) $(UNIT_BIN) $(INTEG_BIN) $(INSTALL_BIN) $(TEST_PLUGINS) \
     $(BUILD)/genlog $(BUILD)/floor

$(BUILD)/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -c $< -o $@

$(LIB): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(HOST): $(BUILD)/core/main.o $(LIB)
	$(CC) $(ALLCFLAGS) $^ -o $@ $(LDLIBS) $(MALLOC_LIBS)

# Every folder plugins/<kind>-<name>/ becomes $(BUILD)/plugins/<kind>-<name>.so
# (libraries beyond jansson and PCRE2, which every plugin may use through
# the SDK's synth_pii.h, per plugin:)
PCRE2_LIBS := $(shell pkg-config --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
$(BUILD)/plugins/privacy-pseudonymize.so: PLUGIN_LIBS = $(shell pkg-config --libs libsodium 2>/dev/null || echo -lsodium)
.SECONDEXPANSION:
$(BUILD)/plugins/%.so: $$(wildcard plugins/%/*.c) $(SDK_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) $(filter %.c,$^) -o $@ $(PLUGIN_LIBS) $(PCRE2_LIBS) $(JANSSON_LIBS) -lm

$(BUILD)/tests/%.o: tests/%.c tests/%.h tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -Itests -c $< -o $@

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB) $(TESTUTIL)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -Itests $< $(TESTUTIL) $(LIB) -o $@ $(LDLIBS) $(CMOCKA) $(PCRE2_LIBS)

$(BUILD)/tests/%: tests/integration/%.c $(TESTUTIL)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -Itests $< $(TESTUTIL) -o $@ $(LDLIBS) $(CMOCKA) -lm

$(TP)/good.so:         TPFLAGS =
$(TP)/abi-major.so:    TPFLAGS = -DTP_ABI_MAJOR=2
$(TP)/abi-newer.so:    TPFLAGS = -DTP_ABI_MINOR=99
$(TP)/no-entry.so:     TPFLAGS = -DTP_NO_ENTRY
$(TP)/small-struct.so: TPFLAGS = '-DTP_STRUCT_SIZE=offsetof(synth_plugin,flush)' -DTP_NAME='"small-struct"'
$(TP)/too-small.so:    TPFLAGS = -DTP_STRUCT_SIZE=16 -DTP_NAME='"too-small"'
$(TP)/init-fails.so:   TPFLAGS = -DTP_INIT_FAILS
$(TP)/bad-default.so:  TPFLAGS = -DTP_BAD_DEFAULT -DTP_NAME='"bad-default"'
$(TP)/bad-name.so:     TPFLAGS = -DTP_NAME='"Bad Name"'
$(TP)/bad-info.so:     TPFLAGS = -DTP_NAME='"bad-info"' '-DTP_DATASET_INFO="[1]"'
# built against the frozen 1.0 header, not today's
$(TP)/abi-1.0.so:      PLUGIN_INC = -Itests/abi/1.0
$(TP)/abi-1.0.so:      tests/abi/1.0/synth_plugin.h
$(TP)/abi-1.1.so:      PLUGIN_INC = -Itests/abi/1.1
$(TP)/abi-1.1.so:      tests/abi/1.1/synth_plugin.h
$(TP)/%.so: tests/plugins/testplug.c sdk/synth_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) $(TPFLAGS) $< -o $@ $(JANSSON_LIBS)

# The tests find the build through these variables.
# UPDATE=1: tests/cases/*/expect/ are rewritten from the runs (review
# the change with git diff) instead of compared.
UPDATE ?=
TEST_ENV = SYNTH_BUILD=$(abspath $(BUILD)) SYNTH_ROOT=$(CURDIR) SYNTH_UPDATE=$(UPDATE)

# The install test installs into a scratch DESTDIR, builds the SDK
# examples out of tree against it, runs them, then uninstalls.
TEST_DESTDIR = $(abspath $(BUILD))/destdir
TEST_PREFIX  = /usr/local

test: all
	@set -e; for t in $(UNIT_BIN) $(INTEG_BIN); do \
	    echo "== $$t"; $(TEST_ENV) $$t; done
	@rm -rf $(TEST_DESTDIR)
	@$(MAKE) --no-print-directory -s install DESTDIR=$(TEST_DESTDIR) PREFIX=$(TEST_PREFIX)
	@echo "== $(INSTALL_BIN)"
	@$(TEST_ENV) SYNTH_DESTDIR=$(TEST_DESTDIR) SYNTH_PREFIX=$(TEST_PREFIX) $(INSTALL_BIN)
	@echo "all test programs passed ($(BUILD))"

# ---- install ------------------------------------------------------------
PREFIX    ?= /usr/local
DESTDIR   ?=
VERSION   := $(shell sed -n 's/^#define SYNTH_VERSION "\(.*\)"/\1/p' core/version.h)
BINDIR     = $(PREFIX)/bin
PLUGINDIR  = $(PREFIX)/lib/synthhost/plugins
INCDIR     = $(PREFIX)/include/synthhost
PCDIR      = $(PREFIX)/lib/pkgconfig
SHAREDIR   = $(PREFIX)/share/synthhost
MANDIR     = $(PREFIX)/share/man
SDK_EXAMPLES = $(wildcard sdk/examples/*/*.c sdk/examples/*/Makefile)

install: $(HOST) $(PLUGINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(PCDIR) $(DESTDIR)$(SHAREDIR)/conf \
	    $(DESTDIR)$(SHAREDIR)/examples $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man3
	install -m 755 $(HOST) $(DESTDIR)$(BINDIR)/synthhost
	install -m 755 $(PLUGINS) $(DESTDIR)$(PLUGINDIR)/
	install -m 644 $(SDK_HEADERS) $(DESTDIR)$(INCDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    sdk/synth-plugin.pc.in > $(DESTDIR)$(PCDIR)/synth-plugin.pc
	install -m 644 conf/synth.conf $(DESTDIR)$(SHAREDIR)/conf/
	install -m 644 examples/agent-log.jsonl $(DESTDIR)$(SHAREDIR)/examples/
	install -m 644 sdk/README.md $(DESTDIR)$(SHAREDIR)/
	install -d $(DESTDIR)$(SHAREDIR)/docs
	install -m 644 docs/*.md $(DESTDIR)$(SHAREDIR)/docs/
	for f in $(SDK_EXAMPLES); do \
	    install -D -m 644 $$f $(DESTDIR)$(SHAREDIR)/$${f#sdk/}; done
	install -m 644 docs/synthhost.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 docs/synth_plugin.3 $(DESTDIR)$(MANDIR)/man3/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/synthhost \
	    $(addprefix $(DESTDIR)$(PLUGINDIR)/,$(notdir $(PLUGINS))) \
	    $(addprefix $(DESTDIR)$(INCDIR)/,$(notdir $(SDK_HEADERS))) \
	    $(DESTDIR)$(PCDIR)/synth-plugin.pc \
	    $(DESTDIR)$(MANDIR)/man1/synthhost.1 $(DESTDIR)$(MANDIR)/man3/synth_plugin.3
	rm -rf $(DESTDIR)$(SHAREDIR)
	-rmdir $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(PREFIX)/lib/synthhost $(DESTDIR)$(INCDIR) 2>/dev/null

# ---- benchmarks (reported, never asserted) --------------------------------
$(BUILD)/genlog: bench/genlog.c
	@mkdir -p $(dir $@)
	$(CC) $(BASECFLAGS) $< -o $@
$(BUILD)/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(BASECFLAGS) $(DEPCFLAGS) $< -o $@ $(JANSSON_LIBS)

bench: $(HOST) $(PLUGINS) $(BUILD)/genlog $(BUILD)/floor
	@scripts/install-deps.sh --bench
	@scripts/bench.sh $(BUILD)

demo:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory $(HOST) $(PLUGINS)
	@scripts/demo.sh $(HOST)

# valgrind watches jemalloc's malloc/free as it does glibc's
VALGRIND_FLAGS = --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --soname-synonyms=somalloc=*jemalloc*
valgrind: $(HOST) $(PLUGINS)
	rm -rf $(BUILD)/valgrind-out
	SYNTH_NO_JIT=1 valgrind $(VALGRIND_FLAGS) \
	    $(HOST) -q -c conf/synth.conf -o $(BUILD)/valgrind-out
	SYNTH_NO_JIT=1 valgrind $(VALGRIND_FLAGS) \
	    $(HOST) analyze -q --html $(BUILD)/valgrind-out/report.html \
	    $(BUILD)/valgrind-out/*.jsonl > /dev/null

# Mutation testing (build-mutants/): every listed bug must be caught.
mutants:
	@scripts/mutants.sh

clean:
	rm -rf build build-san build-tsan build-mutants synthetic-data

.PHONY: all test demo valgrind clean install uninstall bench mutants

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

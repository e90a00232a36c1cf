# xenci — top-level build. GNU make; every library comes from pkg-config.
#   make deps      install the Debian packages (debian-packages.txt)
#   make           build/xenci-controller, build/xenci-agent, build/xenci
#   make check     deps, build, then every test suite; ends with "N passed, N failed"
#   make check-long  the tests that take minutes (tests/long), one QEMU at a time
#   make SANITIZE=address,undefined check   the same in build/sanitize
#   make SANITIZE=thread all tests   ThreadSanitizer, in build/tsan
#   make check-tsan  the read pool's concurrency test under ThreadSanitizer
#   make format    clang-format every C file;  make analyze   cppcheck, zero findings
#   make bench     benchmarks (figures, not pass/fail)

BUILD ?= build
CC ?= cc
SUITES ?= unit integration fuzz docs e2e browser

PKGS := libmicrohttpd libcurl jansson yaml-0.1 sqlite3 libgit2 libserialport libpcre2-8 \
	libusb-1.0 libcrypto gmime-3.0 zlib
WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
XCFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Ilib -I$(GEN) -MMD -MP $(PKG_CFLAGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

# The controller's allocator: jemalloc (docs/architecture.md, "Allocation"). Its
# read threads make and free thousands of small JSON values a request, which glibc's
# malloc serves more slowly. Sanitizer builds keep their own interposed allocator.
# Recursive (=): read when linking, after `make deps` installed it.
CTL_MALLOC = $(if $(SANITIZE),,$(shell pkg-config --libs jemalloc 2>/dev/null))

ifneq ($(SANITIZE),)
# ThreadSanitizer cannot share objects with the others: a folder of its own
BUILD := $(if $(filter thread,$(SANITIZE)),build/tsan,build/sanitize)
CFLAGS += -O1 -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
XCFLAGS += -DXENCI_VERSION='"$(VERSION)"'

LIB_SRC := $(wildcard lib/*.c)
CTL_SRC := $(filter-out controller/main.c,$(wildcard controller/*.c))
AGENT_SRC := $(filter-out lab-agent/main.c,$(wildcard lab-agent/*.c))
CLI_SRC := $(filter-out cli/main.c,$(wildcard cli/*.c))
HARNESS_SRC := $(wildcard tests/harness/*.c)
UNIT_SRC := $(wildcard tests/unit/test-*.c)
INTEG_SRC := $(wildcard tests/integration/test-*.c)
LONG_SRC := $(wildcard tests/long/test-*.c)
BENCH_SRC := $(wildcard tests/bench/bench-*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz-*.c)
BROWSER_SRC := $(wildcard tests/browser/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_A := $(BUILD)/libxenci.a
CTL_A := $(BUILD)/libcontroller.a
AGENT_A := $(BUILD)/libagent.a
CLI_A := $(BUILD)/libcli.a
HARNESS_A := $(BUILD)/libharness.a
ALL_A := $(CTL_A) $(AGENT_A) $(CLI_A) $(LIB_A)

PROGRAMS := $(BUILD)/xenci-controller $(BUILD)/xenci-agent $(BUILD)/xenci
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
INTEG_BIN := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))
LONG_BIN := $(patsubst tests/long/%.c,$(BUILD)/tests/long/%,$(LONG_SRC))
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(BENCH_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%,$(FUZZ_SRC))
# Helpers of the browser tests (a simulated lab); not tests themselves.
BROWSER_BIN := $(patsubst tests/browser/%.c,$(BUILD)/tests/browser/%,$(BROWSER_SRC))

# Generated sources: one source for each fact. The netboot built-ins are
# hypervisor/boot/NAME.template as the C string NAME_template in $(GEN)/NAME-template.h:
# the comment lines go (a first "#!" line stays), the rest is kept byte for byte
# (tests/unit/test-agent-netboot.c checks that the agent's scripts equal the templates').
GEN = $(BUILD)/gen
GEN_TEMPLATES := $(patsubst hypervisor/boot/%.template,%,$(wildcard hypervisor/boot/*.template))
$(GEN)/%-template.h: hypervisor/boot/%.template
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	@{ echo '/* Generated from $< by the Makefile: edit the template, not this file. */'; \
	  echo 'static const char $*_template[] ='; \
	  sed -e '/^#!/!{/^#/d;}' -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' \
	      -e 's/?/\\?/g' -e 's/.*/    "&\\n"/' $<; \
	  echo '    ;'; } >$@.tmp && mv $@.tmp $@
# The netboot backends include their template (the first build has no .d files yet).
$(foreach t,$(GEN_TEMPLATES),$(eval $(call obj,lab-agent/netboot-$(t).c) \
	$(BUILD)/fuzz/obj/lab-agent/netboot-$(t).o: $(GEN)/$(t)-template.h))

.SECONDARY:
.PHONY: all tests deps check check-run check-long check-tsan format analyze bench bench-bisect fuzz clean demo
all: $(PROGRAMS)
tests: $(UNIT_BIN) $(INTEG_BIN) $(LONG_BIN) $(BENCH_BIN) $(BROWSER_BIN) $(if $(SANITIZE),,$(FUZZ_BIN))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(XCFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(call obj,$(LIB_SRC))
$(CTL_A): $(call obj,$(CTL_SRC))
$(AGENT_A): $(call obj,$(AGENT_SRC))
$(CLI_A): $(call obj,$(CLI_SRC))
$(HARNESS_A): $(call obj,$(HARNESS_SRC))
$(BUILD)/%.a:
	@mkdir -p $(@D)
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/xenci-controller: $(call obj,controller/main.c) $(CTL_A) $(LIB_A)
$(BUILD)/xenci-agent: $(call obj,lab-agent/main.c) $(AGENT_A) $(LIB_A)
$(BUILD)/xenci: $(call obj,cli/main.c) $(CLI_A) $(LIB_A)
$(PROGRAMS):
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(if $(filter %-controller,$@),$(CTL_MALLOC))

# Tests link every part's archive; the linker takes only what a test uses.
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(HARNESS_A) $(ALL_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(HARNESS_A) $(ALL_A) $(PKG_LIBS) -lcmocka

# libFuzzer targets: every part compiled again by clang with ASan+UBSan coverage.
FZ := $(BUILD)/fuzz
FZ_SAN := -fsanitize=address,undefined
FZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -MMD -MP -Ilib -I$(GEN) $(PKG_CFLAGS) -fsanitize=fuzzer-no-link $(FZ_SAN)
$(FZ)/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FZ_CFLAGS) -c -o $@ $<
$(FZ)/libfuzz.a: $(patsubst %.c,$(FZ)/obj/%.o,$(LIB_SRC) $(CTL_SRC) $(AGENT_SRC) $(CLI_SRC))
	@rm -f $@ && ar rcs $@ $^
$(BUILD)/tests/fuzz/%: $(FZ)/obj/tests/fuzz/%.o $(FZ)/libfuzz.a
	@mkdir -p $(@D)
	clang -fsanitize=fuzzer $(FZ_SAN) -o $@ $^ $(PKG_LIBS)
fuzz: $(FUZZ_BIN)

deps:
	@tests/deps.sh debian-packages.txt

# check installs what it needs first, then builds and runs in a fresh make so that
# pkg-config sees the libraries that deps just installed.
check: deps
	@$(MAKE) --no-print-directory all tests
	@$(MAKE) --no-print-directory check-run

check-run:
	@tests/run.sh $(BUILD) $(SUITES)

# The tests that take minutes (tests/long: real boards through real lab daemons),
# outside make check's time budget. They boot the arm64 board: Xen and the dom0
# payloads are built first.
check-long: deps
	@$(MAKE) --no-print-directory all tests hypervisor-build-arm64 payloads-arm64
	@tests/run.sh $(BUILD) long

bench: deps
	@$(MAKE) --no-print-directory all tests
	@tests/bench.sh $(BUILD)

# The read pool's concurrency tests under ThreadSanitizer (the pool beside agents'
# writes; the read threads' memos of the branch matrix): a race the controller
# meets is reported, its exit status 66, and the test fails.
check-tsan:
	$(MAKE) SANITIZE=thread build/tsan/xenci-controller build/tsan/tests/integration/test-read-pool \
		build/tsan/tests/integration/test-branch-memo
	XENCI_BUILD=$(CURDIR)/build/tsan XENCI_ROOT=$(CURDIR) build/tsan/tests/integration/test-read-pool
	XENCI_BUILD=$(CURDIR)/build/tsan XENCI_ROOT=$(CURDIR) build/tsan/tests/integration/test-branch-memo

bench-bisect: $(BUILD)/tests/bench/bench-bisect
	@$(BUILD)/tests/bench/bench-bisect $(BENCH_BISECT_ARGS)

# The whole lab on one machine: controller, one agent, both QEMU boards, real Xen.
# DEMO_PORT, DEMO_DIR, DEMO_TREE and DEMO_EXIT_AFTER_FLIGHT=1 are passed to demo/run.sh.
demo: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory hypervisor
	@demo/run.sh

FORMAT_SRC = $(shell git ls-files '*.c' '*.h') $(wildcard $(foreach d,lib controller lab-agent cli tests/*,$(d)/*.[ch]))
format:
	clang-format -i $(sort $(FORMAT_SRC))

analyze:
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
		--inline-suppr --suppressions-list=.cppcheck-suppressions --library=tests/analyze/jansson.cfg \
		-D__GNUC__ -DXENCI_VERSION=\"0\" -Ilib -Icontroller -Ilab-agent -Icli \
		lib controller lab-agent cli tests

clean:
	rm -rf build

-include hypervisor/hypervisor.mk
-include packaging/packaging.mk
-include $(shell find $(BUILD)/obj $(FZ)/obj -name '*.d' 2>/dev/null)

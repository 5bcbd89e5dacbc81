# retain: build, test, install.
#
#   make            build every program into bin/
#   make check      build, then run the C unit tests and the bats tests
#   make asan       the same suite under AddressSanitizer and UBSan
#   make valgrind   every program on a small input under valgrind (memcheck)
#   make demo       run the retention workflow on examples/
#   make bench      benchmarks against peers (not part of check)
#   make fuzz       libFuzzer targets (clang), each run for FUZZ_SECONDS
#   make install    PREFIX=/usr/local DESTDIR=
#
# Every lib/*.c goes into one static library; every cmd/NAME.c is a program
# bin/NAME; every tests/unit/test_NAME.c is a unit test. New files need no
# edits here.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN      = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DRETAIN_VERSION='"$(VERSION)"' -Ilib
LDLIBS   += -lz -lm
BUILD    ?= build
BINDIR   ?= bin

LIB_SRC  = $(sort $(wildcard lib/*.c))
CMD_SRC  = $(sort $(wildcard cmd/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
PROGS    = $(CMD_SRC:cmd/%.c=$(BINDIR)/%)
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
SCRIPTS  = $(sort $(wildcard scripts/*))
MAN1     = $(sort $(wildcard man/man1/*.1))
MAN5     = $(sort $(wildcard man/man5/*.5))
MAN7     = $(sort $(wildcard man/man7/*.7))

all: deps-build $(PROGS)

$(BUILD)/lib/%.o: lib/%.c lib/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -c -o $@ $<

$(BUILD)/libretain.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/%: cmd/%.c $(BUILD)/libretain.a lib/*.h
	@mkdir -p $(BINDIR)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(BUILD)/libretain.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libretain.a lib/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libretain.a $(LDFLAGS) $(LDLIBS)

TOOLS = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
$(BUILD)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) -o $@ $<

units: $(UNITS) $(TOOLS)

# The test suite: unit tests, then bats. Prints one "N passed, N failed" line.
check: deps-check all units
	@RETAIN_TOOLS=$(CURDIR)/$(BUILD)/tools sh tests/run-suite.sh "$(BUILD)" $(UNITS)

# Same suite, sanitizers on, separate build tree and bin directory.
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
asan: deps-check
	$(MAKE) BUILD=build-asan BINDIR=bin-asan CFLAGS="$(ASAN_FLAGS)" \
	  LDFLAGS="-fsanitize=address,undefined" all units
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  RETAIN_BIN=$(CURDIR)/bin-asan RETAIN_ASAN=1 \
	  RETAIN_TOOLS=$(CURDIR)/build-asan/tools sh tests/run-suite.sh build-asan $(sort $(UNIT_SRC:tests/unit/%.c=build-asan/unit/%))

# ThreadSanitizer on the code that runs in two threads (tests/tsan.sh):
# no data race reported.
TSAN_FLAGS = -O1 -g -fsanitize=thread
tsan: deps-check
	$(MAKE) BUILD=build-tsan BINDIR=bin-tsan CFLAGS="$(TSAN_FLAGS)" LDFLAGS="-fsanitize=thread" all units
	@RETAIN_BIN=$(CURDIR)/bin-tsan sh tests/tsan.sh build-tsan build-tsan/unit/test_time

# valgrind: no invalid accesses, no definite leaks (tests/valgrind.sh).
valgrind: all
	@sh tests/valgrind.sh

# libFuzzer targets: tests/fuzz/fuzz_NAME.c, built with clang.
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
fuzz:
	@sh tests/fuzz/run.sh "$(FUZZ_SECONDS)" $(FUZZ_SRC)

demo: all
	@sh examples/demo.sh

bench: all
	@sh bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin
	for s in $(SCRIPTS); do install -m 755 $$s $(DESTDIR)$(PREFIX)/bin; done
	install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1
	[ -z "$(MAN5)" ] || install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5
	[ -z "$(MAN7)" ] || install -m 644 $(MAN7) $(DESTDIR)$(PREFIX)/share/man/man7

manlint:
	mandoc -T lint -W warning $(MAN1) $(MAN5) $(MAN7)

# Missing Debian packages: installed when root, otherwise the exact command.
deps-build:
	@sh tests/deps.sh build
deps-check:
	@sh tests/deps.sh check

clean:
	rm -rf build build-asan build-tsan build-clang build-fuzz bin bin-asan bin-tsan bin-clang demo-out

.PHONY: all units check asan tsan valgrind fuzz demo bench install manlint deps-build deps-check clean
.SECONDARY:

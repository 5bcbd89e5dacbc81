# retain: build, test, install.
#
#   make            build every program into bin/
#   make check      build, then run the C unit tests and the bats tests
#   make asan       the same suite under AddressSanitizer and UBSan
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

LIB_SRC  = $(sort $(wildcard lib/*.c))
CMD_SRC  = $(sort $(wildcard cmd/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
PROGS    = $(CMD_SRC:cmd/%.c=bin/%)
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

bin/%: cmd/%.c $(BUILD)/libretain.a lib/*.h
	@mkdir -p bin
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(BUILD)/libretain.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libretain.a lib/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libretain.a $(LDFLAGS) $(LDLIBS)

units: $(UNITS)

# The test suite: unit tests, then bats. Prints one "N passed, N failed" line.
check: deps-check all units
	@sh tests/run-suite.sh "$(BUILD)" $(UNITS)

# Same suite, sanitizers on, separate build tree and bin directory.
asan:
	$(MAKE) BUILD=build-asan OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined" BIN=bin-asan asan-inner

asan-inner: deps-check
	@rm -rf bin-asan && mkdir -p bin-asan
	$(MAKE) BUILD=$(BUILD) CFLAGS="$(CFLAGS)" LDFLAGS="$(LDFLAGS)" all units
	@for p in $(PROGS); do cp $$p bin-asan/; done
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 RETAIN_BIN=$(CURDIR)/bin-asan \
	  sh tests/run-suite.sh "$(BUILD)" $(UNITS)

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
	rm -rf build build-asan build-fuzz bin bin-asan

.PHONY: all units check asan asan-inner fuzz demo bench install manlint deps-build deps-check clean
.SECONDARY:

# switchsim: build, test, bench, install.  See README.md.
# Out-of-tree build in $(BUILD).  CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR may be overridden.
# Missing Debian packages are installed by the 'deps' step (as root), or it stops with the command to run.

BUILD   ?= build
PREFIX  ?= /usr/local
CC      ?= cc
OPT     ?= -O2

# Each flag has a reason.  -Wdouble-promotion catches float kernels that compute in double.
WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wold-style-definition -Wwrite-strings -Wcast-qual -Wundef -Wformat=2 \
        -Wdouble-promotion -Wvla -Wnull-dereference -fno-common
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -I. -DSWITCHSIM_DATADIR='"$(PREFIX)/share/switchsim"' 

# Debian packages the build needs (header or pkg-config name -> package).
DEB_PKGS := libsimgrid-dev libgsl-dev libcsv-dev libexpat1-dev check libopenblas-dev pkg-config gnuplot-nox jq parallel
# Lazily expanded ('='), so they are read after the deps step has installed pkg-config files.
# Third-party headers are system headers: their warnings are not ours.
DEP_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags simgrid gsl check 2>/dev/null))
# OpenBLAS provides CBLAS for both our kernels and GSL, so GSL's reference cblas is left out.
DEP_LIBS   = $(filter-out -lgslcblas,$(shell pkg-config --libs simgrid gsl 2>/dev/null)) -lcsv -lexpat -lopenblas -lm
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)
ALL_CFLAGS = -std=c11 $(WARN) $(OPT) -g $(CFLAGS) $(DEP_CFLAGS) -MMD -MP

LIB_SRC   := $(filter-out sim/cli/main.c,$(wildcard models/*.c topologies/*.c traces/*.c analysis/*.c \
                                          fidelity/*.c sim/*.c sim/cli/*.c sim/common/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libswitchsim.a
BIN       := $(BUILD)/switchsim
TEST_SRC  := $(wildcard tests/check_*.c)
TESTS     := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench_*.c)
BENCHES   := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)
DEPS_OK   := $(BUILD)/.deps-ok

# Platform files in topologies/, all written by our own generator ('switchsim topology').  The small ones are
# checked in ('make platforms' rewrites them all); the large ones (explicit routes for every chip pair: 0.2 to
# 23 MB) are not: they are built here, again whenever the generator changes, and installed with the others.
PLATFORMS_LARGE := topologies/tpuv3-8x8.xml topologies/tpuv3-16x16.xml topologies/h200-32gpu.xml
GENERATOR := $(patsubst %.c,$(BUILD)/%.o,$(wildcard topologies/*.c)) $(BUILD)/sim/cli/cmd_topology.o

.PHONY: calibrate-torch all deps run test sanitize valgrind fuzz fuzz-deps fuzz-run bench plots parity readme install clean platforms
.SECONDARY:

all: $(BIN) $(TESTS) $(BENCHES) $(PLATFORMS_LARGE)

topologies/tpuv3-8x8.xml: $(GENERATOR) | $(BIN)
	./$(BIN) topology --chip tpuv3 --torus 8x8 --out $@
topologies/tpuv3-16x16.xml: $(GENERATOR) | $(BIN)
	./$(BIN) topology --chip tpuv3 --torus 16x16 --out $@
topologies/h200-32gpu.xml: $(GENERATOR) | $(BIN)
	./$(BIN) topology --chip h200 --gpus-per-node 8 --nodes 4 --out $@

deps: $(DEPS_OK)
$(DEPS_OK):
	@mkdir -p $(BUILD)
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing missing Debian packages:$$missing"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing || exit 1; \
	  else \
	    echo "make: missing Debian packages:$$missing"; \
	    echo "make: run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
	@touch $@

$(BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# 'switchsim --version': the version and the git commit built (with -dirty for uncommitted changes), in
# $(BUILD)/version.h, rewritten only when they change so main.o is rebuilt only then.
VERSION    := 0.1
GIT_COMMIT := $(shell c=$$(git rev-parse --short=12 HEAD 2>/dev/null) && \
                { git diff --quiet HEAD -- 2>/dev/null && echo $$c || echo $$c-dirty; } || echo unknown)
.PHONY: FORCE
FORCE:
$(BUILD)/version.h: FORCE | $(DEPS_OK)
	@printf '#define SWITCHSIM_VERSION "%s"\n#define SWITCHSIM_GIT_COMMIT "%s"\n' '$(VERSION)' '$(GIT_COMMIT)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/sim/cli/main.o: $(BUILD)/version.h
$(BUILD)/sim/cli/main.o: CPPFLAGS += -iquote $(BUILD)

$(BIN): $(BUILD)/sim/cli/main.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ -o $@ $(DEP_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ -o $@ $(DEP_LIBS) $(CHECK_LIBS)

# The main job: the default simulation (Switch-Base, 32 TPUv3 cores), then the standard plots and the parity
# plots; each stage says what it does and how long it took.
run: $(BIN) $(PLATFORMS_LARGE)
	@echo "make run: 1/3: simulate Switch-Base on 32 TPUv3 cores (topologies/tpuv3-4x4.xml, top-1, cf 1.25) -> $(BUILD)/run.csv"
	@t=$$(date +%s); ./$(BIN) run --platform topologies/tpuv3-4x4.xml --model switch-base --top-k 1 \
	  --capacity-factor 1.25 --csv $(BUILD)/run.csv && echo "make run: 1/3 done in $$(( $$(date +%s) - t )) s"
	@echo "make run: 2/3: plots of a capacity-factor sweep (switch-base, top-k 1,2, 8 capacity factors: 16 runs) -> $(BUILD)/plots"
	@t=$$(date +%s); sh analysis/plots.sh $(BIN) $(BUILD)/plots && echo "make run: 2/3 done in $$(( $$(date +%s) - t )) s"
	@echo "make run: 3/3: parity plots against the measurements (switchsim validate: about 2 minutes, reused while the binary and data are the same) -> $(BUILD)/plots"
	@t=$$(date +%s); sh analysis/parity.sh $(BIN) $(BUILD)/plots && echo "make run: 3/3 done in $$(( $$(date +%s) - t )) s"

# The standard plots of a default sweep, and the parity plots ('make parity' alone: analysis/parity.sh).
plots: $(BIN) $(PLATFORMS_LARGE)
	sh analysis/plots.sh $(BIN) $(BUILD)/plots
	sh analysis/parity.sh $(BIN) $(BUILD)/plots

parity: $(BIN) $(PLATFORMS_LARGE)
	sh analysis/parity.sh $(BIN) $(BUILD)/plots

# The README's example outputs regenerated from the program ('make test' compares them: tests/cli_readme.sh).
readme: $(BIN) $(PLATFORMS_LARGE)
	sh tests/cli_readme.sh $(BIN) --update

# The torch profile's fit (minutes, so not in 'make test'): what 'calibrate --torch' prints must be what the H100
# preset and the shipped h100-1gpu.xml hold (topologies/chip.c TORCH_*).
calibrate-torch: $(BIN)
	sh tests/calibrate_torch.sh $(BIN)

# Check suites (each forks its tests), then the CLI contract.  SWITCHSIM_SIMGRID_CFG reaches every simulation.
test: $(TESTS) $(BIN) $(PLATFORMS_LARGE)
	@set -e; for t in $(TESTS); do echo "== $$t"; ./$$t; done
	@sh tests/cli.sh $(BIN)

# Same tests in a separate tree under ASan+UBSan; any report fails.  SimGrid's default context
# switcher confuses ASan, so simulations use thread contexts there (SOURCES.md 8.1).
# Then valgrind memcheck on a tiny run of the normal build (valgrind cannot run ASan binaries).
# ASan+UBSan run the suites 2-4x slower: Check's per-test limits are multiplied by 4 (CK_TIMEOUT_MULTIPLIER).
sanitize:
	SWITCHSIM_SIMGRID_CFG="contexts/factory:thread" ASAN_OPTIONS=detect_leaks=1 CK_TIMEOUT_MULTIPLIER=4 $(MAKE) BUILD=build-san OPT=-O1 \
	  CFLAGS="$(CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  LDFLAGS="$(LDFLAGS) -fsanitize=address,undefined" test
	$(MAKE) valgrind

# Memcheck on a tiny run and a tiny collective: any error or definite leak fails (SimGrid in thread contexts,
# which valgrind follows).  The collective is simulated in a forked child (sim/simproc.c, as validate and
# calibrate are), which valgrind follows too; its --error-exitcode there reaches the exit status because the
# parent fails a child that answers but does not exit 0.
valgrind: $(BIN)
	@command -v valgrind > /dev/null || { echo "make: valgrind is missing: sudo apt-get install -y valgrind"; exit 1; }
	SWITCHSIM_SIMGRID_CFG="contexts/factory:thread" valgrind -q --error-exitcode=99 --leak-check=full --trace-children=yes \
	  --errors-for-leak-kinds=definite ./$(BIN) run --platform topologies/tpuv3-2x2.xml \
	  --models tests/data/models_tiny.csv --model tiny-switch --quiet --csv $(BUILD)/valgrind.csv > /dev/null
	SWITCHSIM_SIMGRID_CFG="contexts/factory:thread" valgrind -q --error-exitcode=99 --leak-check=full --trace-children=yes \
	  --errors-for-leak-kinds=definite ./$(BIN) collective --platform topologies/tpuv3-2x2.xml --op all-to-all \
	  --min-bytes 1K --max-bytes 4K > /dev/null

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), one per parser, each run FUZZ_SECONDS on a corpus seeded from the
# shipped files, in a separate tree built by clang with ASan+UBSan; any crash, sanitizer report, hang or file
# left behind fails (tests/fuzz/run.sh).  Not part of 'make test'.  FUZZ_TARGETS picks some of them.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= models trace runrow platform cli jobs
FUZZ_DEB_PKGS := clang libclang-rt-dev
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

fuzz: fuzz-deps
	$(MAKE) BUILD=build-fuzz CC=clang OPT=-O1 CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" LDFLAGS="$(FUZZ_SAN)" fuzz-run

# Debian's clang carries libFuzzer (libclang-rt-dev): installed when missing (as root), as the deps step does.
fuzz-deps:
	@if ! command -v clang > /dev/null || ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' \
	      | clang -x c -fsanitize=fuzzer - -o /dev/null 2> /dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make: installing clang with libFuzzer: $(FUZZ_DEB_PKGS)"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(FUZZ_DEB_PKGS) || exit 1; \
	  else \
	    echo "make: run: sudo apt-get update && sudo apt-get install -y $(FUZZ_DEB_PKGS)"; exit 1; \
	  fi; \
	fi

fuzz-run: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	sh tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -fsanitize=fuzzer $< $(LIB) -o $@ $(DEP_LIBS)

bench: $(BENCHES) $(BIN) $(PLATFORMS_LARGE)
	@set -e; for b in $(BENCHES); do echo "== $$b"; ./$$b; done

platforms: $(BIN)
	./$(BIN) topology --chip tpuv3 --torus 2x2 --out topologies/tpuv3-2x2.xml
	./$(BIN) topology --chip tpuv3 --torus 4x4 --out topologies/tpuv3-4x4.xml
	./$(BIN) topology --chip tpuv3 --torus 8x8 --out topologies/tpuv3-8x8.xml
	./$(BIN) topology --chip tpuv3 --torus 16x16 --out topologies/tpuv3-16x16.xml
	./$(BIN) topology --chip tpuv3 --torus 32x32 --out topologies/tpuv3-32x32.xml
	./$(BIN) topology --chip tpuv2 --torus 16x16 --out topologies/tpuv2-16x16.xml
	./$(BIN) topology --chip tpuv4 --torus 4x4x4 --out topologies/tpuv4-4x4x4.xml
	./$(BIN) topology --chip h100 --gpus-per-node 1 --out topologies/h100-1gpu.xml
	./$(BIN) topology --chip h200 --gpus-per-node 1 --out topologies/h200-1gpu.xml
	./$(BIN) topology --chip h200 --gpus-per-node 2 --out topologies/h200-2gpu.xml
	./$(BIN) topology --chip h200 --gpus-per-node 4 --out topologies/h200-4gpu.xml
	./$(BIN) topology --chip h200 --gpus-per-node 8 --out topologies/h200-8gpu.xml
	./$(BIN) topology --chip h200 --gpus-per-node 8 --nodes 4 --out topologies/h200-32gpu.xml

install: $(BIN) $(PLATFORMS_LARGE)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/switchsim/models $(DESTDIR)$(PREFIX)/share/switchsim/topologies \
	  $(DESTDIR)$(PREFIX)/share/switchsim/data
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 models/models.csv models/gshard.csv $(DESTDIR)$(PREFIX)/share/switchsim/models/
	install -m 0644 topologies/*.xml $(DESTDIR)$(PREFIX)/share/switchsim/topologies/
	install -m 0644 data/*.csv $(DESTDIR)$(PREFIX)/share/switchsim/data/

clean:
	rm -rf build build-san build-fuzz
	rm -f $(PLATFORMS_LARGE)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Vigil's two commands (README): `make demo` and `make check`. Meson does the building;
# this file only sequences the steps. Everything installs what it needs first.
BUILD ?= build
ASAN_BUILD ?= build-asan
DEMO_DATA ?= demo-data
DEMO_LISTEN ?= 127.0.0.1:8443
PYTHON ?= /usr/bin/python3

.PHONY: all deps build check demo clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) >/dev/null

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Every test suite, then again under ASan+UBSan; ends with "N passed, N failed".
check: deps
	@bash scripts/check.sh

demo: build
	@bash scripts/demo.sh $(BUILD)/vigil $(DEMO_DATA) $(DEMO_LISTEN)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz

# Benchmarks (S11): bounded in time and size; write docs/BENCHMARKS.md.
.PHONY: fuzz
# Every fuzz harness for FUZZ_SECONDS each (default 60).
FUZZ_SECONDS ?= 60
fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

.PHONY: bench
bench: build
	@bash bench/run.sh

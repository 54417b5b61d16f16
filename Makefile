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
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz $(INSTALL_BUILD)

# Benchmarks (S11): bounded in time and size; write docs/BENCHMARKS.md.
.PHONY: fuzz
# Every fuzz harness for FUZZ_SECONDS each (default 60).
FUZZ_SECONDS ?= 60
fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

.PHONY: bench
bench: build
	@bash bench/run.sh

# Installs into $(PREFIX) (default /usr/local; DESTDIR honoured): the binary, the dashboard,
# the manual and an example systemd unit (docs/OPERATIONS.md). Uses its own build tree, whose
# compiled-in web_root is the installed dashboard; the developer build is left alone.
PREFIX ?= /usr/local
INSTALL_BUILD ?= build-install
.PHONY: install
install: deps
	@[ ! -f web/build.sh ] || bash web/build.sh
	@set -e; opts="-Dprefix=$(PREFIX) -Dweb_root=$(PREFIX)/share/vigil/web"; \
	if [ -f $(INSTALL_BUILD)/build.ninja ]; then \
		meson setup --reconfigure $(INSTALL_BUILD) $$opts >/dev/null; \
	else \
		meson setup $(INSTALL_BUILD) $$opts >/dev/null; \
	fi
	ninja -C $(INSTALL_BUILD) vigil
	meson install -C $(INSTALL_BUILD) --no-rebuild $(if $(DESTDIR),--destdir "$(abspath $(DESTDIR))")

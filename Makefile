# Lethe's entry points. Everything real happens in meson (build), tests/ and scripts/.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON_TEST = meson test --print-errorlogs --num-processes 2

.PHONY: all deps build check check-asan demo bench fuzz clean install uninstall deb check-deb check-fresh

all: build

deps:
	@scripts/deps.sh

# Reconfigure every time: the interop and vm suites find their *.sh files at setup.
$(BUILD)/build.ninja:
	meson setup $(BUILD) >/dev/null

build: deps $(BUILD)/build.ninja
	@meson setup --reconfigure $(BUILD) >/dev/null
	ninja -C $(BUILD)

# Unit tests and fuzz corpora again under AddressSanitizer and UBSan.
check-asan: deps
	@[ -f $(BUILD_ASAN)/build.ninja ] || meson setup $(BUILD_ASAN) \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	@meson setup --reconfigure $(BUILD_ASAN) >/dev/null
	ninja -C $(BUILD_ASAN)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(MESON_TEST) -C $(BUILD_ASAN) --suite unit --suite fuzz || true

check: build check-asan
	$(MESON_TEST) -C $(BUILD) || true
	@scripts/test-summary $(BUILD) $(BUILD_ASAN)

demo: build
	@scripts/demo.sh

bench: build
	@bench/run $(BUILD)

fuzz: deps
	@[ -f $(BUILD_FUZZ)/build.ninja ] || CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	ninja -C $(BUILD_FUZZ)
	@scripts/fuzz-all $(BUILD_FUZZ) $(FUZZ_SECONDS)

# Install into PREFIX (default /usr/local) below DESTDIR: lethe, lethe-image and
# lethe-init (in libexec/lethe), liblethe with its headers and pkg-config file, the man
# pages and the bash and zsh completions. `make uninstall` removes what the last install put.
PREFIX ?= /usr/local
install: $(BUILD)/build.ninja
	meson configure $(BUILD) -Dprefix=$(PREFIX) >/dev/null
	ninja -C $(BUILD)
	meson install -C $(BUILD) --no-rebuild $(if $(DESTDIR),--destdir "$(DESTDIR)")

uninstall:
	ninja -C $(BUILD) uninstall

# The Debian packages (lethe, liblethe0, liblethe-dev) into $(BUILD)/deb, and lintian.
# Slow, so not part of `make check`.
deb:
	@scripts/build-deb $(BUILD)/deb

# Install those packages into a fresh Debian 12 root and use them there (slow).
check-deb: deb
	@scripts/deb-install-check $(BUILD)/deb

# A fresh Debian 12 root (mmdebstrap), a clone of HEAD, scripts/deps.sh and make check
# in it: what a new user gets (slow; not part of make check).
check-fresh:
	@scripts/check-fresh check

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)

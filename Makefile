# The two commands of the README (both install what they need first, on Debian/Ubuntu):
#   make run   – the app, with the local identity provider and the demo API
#   make test  – everything CI runs

SHELL := /bin/bash
# The repository, as an absolute path: every step runs from it and names its files through it, so
# `make -f /path/to/Makefile test` works from any folder, and so does every tool a step starts
# (`cargo test` runs a test in its crate's folder, not here).
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
NPM_STAMP := $(ROOT)/dev/idp/node_modules/.package-lock.json
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages: building the Tauri app (WebKitGTK), running it headless, and the end-to-end tests.
APT_BUILD := libwebkit2gtk-4.1-dev build-essential libssl-dev libxdo-dev libayatana-appindicator3-dev \
	librsvg2-dev pkg-config
APT_TEST := xvfb xauth dbus-daemon dbus-bin dbus-x11 xdg-utils desktop-file-utils
# The OS keystore on Linux, for the token vault's tests: a real Secret Service, and secret-tool.
APT_KEYRING := gnome-keyring libsecret-tools
# The Windows type-check runs tauri-build, which compiles the app's Windows resources with windres;
# windres runs the MinGW gcc as its preprocessor.
APT_CROSS := binutils-mingw-w64-x86-64 gcc-mingw-w64-x86-64
# End-to-end: WebKitWebDriver for the app's webview, Debian's Chromium (with a window: headless Chromium
# never launches URL handlers) as the "system browser", gio for the OS URL handler.
APT_E2E := webkit2gtk-driver chromium chromium-driver libglib2.0-bin
# tauri-driver from crates.io and the Tauri CLI from npm, installed once into a cache outside the clone.
TOOLS := $(HOME)/.cache/tauri-okta-signin/tools
TAURI_DRIVER := $(TOOLS)/bin/tauri-driver
TAURI_CLI_VERSION := 2.12.5
TAURI_CLI := $(TOOLS)/npm-$(TAURI_CLI_VERSION)/node_modules/.bin/tauri
# Prefix of every step that runs a tool: from the repository's folder.
IN_ROOT := cd $(ROOT) &&
# Every build here is a one-shot build (a test run, `make run`): incremental compilation only adds
# gigabytes of cache to it. Cargo loops of your own keep it (or set CARGO_INCREMENTAL=1 here).
export CARGO_INCREMENTAL ?= 0
# Where cargo (and so the Tauri CLI) puts build output, as an absolute path.
TARGET := $(abspath $(or $(CARGO_TARGET_DIR),$(ROOT)/target))

.PHONY: help test-fast test run bench deps-system deps-node deps-rust fmt-check clippy doc-check publish-check rust-tests chaos-check cross-check ui-tests plugin-js-tests idp-tests browser-check e2e scaffolded-e2e bundle bundle-check e2e-installed fuzz fuzz-check chaos

# `make help`: every target with its `##` line.
help: ## lists the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(ROOT)/Makefile | sed -E 's/^([a-z0-9-]+):.*## /\1\t/' | expand -t 16

# The edit-compile loop: formatting, lints, and the tests that need no browser or desktop (the crates'
# unit tests, and the engine's against dev/idp).
test-fast: deps-node ## fmt, clippy, unit tests and the engine's tests, for the edit-compile loop
	$(IN_ROOT) cargo fmt --all -- --check
	$(IN_ROOT) cargo clippy --workspace --exclude okta-scaffold --all-targets --locked -- -D warnings
	$(IN_ROOT) cargo test --workspace --exclude okta-scaffold --locked --lib
	$(IN_ROOT) cargo test --locked -p native-oidc
# make test, step by step (`make help` says what each is): the install steps first; then the cheap checks
# (fmt, clippy, rustdoc); the Rust tests, where the engine, the CLI and tauri-plugin-oidc-core meet the real dev/idp and a real
# Secret Service; the short chaos run (several processes at once, kills, keystore outages, a full disk,
# a faulty provider: what one process at a time never meets); the other platforms' type-check (a
# platform-only compile error shows nowhere else);
# the JavaScript and dev/idp tests; then the slow end-to-end steps in a real Chromium and webview, each
# proving a hand-off the unit tests cannot (browser → OS URL handler → app), in this repository's app
# and in a freshly scaffolded one with only the plugin README's steps (what a developer would do); the
# .deb and its install; and the fuzz targets' short run.
test: deps-system deps-node deps-rust fmt-check clippy doc-check publish-check rust-tests chaos-check cross-check ui-tests plugin-js-tests idp-tests browser-check e2e scaffolded-e2e bundle-check e2e-installed fuzz-check ## everything CI runs (the README's test command)

run: deps-system deps-node ## the app, with the local identity provider and the demo API (the README's run command)
	$(IN_ROOT) cargo build -p okta-signin-app -p demo-api
	$(IN_ROOT) ./dev/run.sh

# Speed and footprint figures, one JSON line each (crates/bench): release builds of the bench, the app and
# an empty Tauri window, under Xvfb with a Secret Service of the bench's own.
bench: deps-system deps-node ## speed and footprint figures, release builds (crates/bench)
	$(IN_ROOT) cargo build --locked --release -p bench -p okta-signin-app -p empty-window \
		--features okta-signin-app/custom-protocol,empty-window/custom-protocol
	$(IN_ROOT) xvfb-run -a -s "-screen 0 1280x900x24" $(TARGET)/release/bench

deps-system: ## installs the Debian packages the build and the tests need
	@missing=$$(for p in $(APT_BUILD) $(APT_TEST) $(APT_KEYRING) $(APT_CROSS) $(APT_E2E); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# npm ci only when the lock file changed since the last install.
deps-node: $(NPM_STAMP)
$(NPM_STAMP): $(ROOT)/dev/idp/package-lock.json
	@command -v node >/dev/null || { echo "Node.js 20.19+ is required"; exit 1; }
	$(IN_ROOT) npm --prefix $(ROOT)/dev/idp ci --no-audit --no-fund
	@touch $@

deps-rust:
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	@for t in $(CROSS_TARGETS); do \
		rustup target list --installed | grep -qx "$$t" || rustup target add "$$t" || exit 1; \
	done

fmt-check: ## rustfmt, as CI checks it
	$(IN_ROOT) cargo fmt --all -- --check

clippy: ## clippy on every crate and test, warnings as errors
	$(IN_ROOT) cargo clippy --workspace --exclude okta-scaffold --all-targets --locked -- -D warnings

doc-check: ## the crates' documentation, warnings as errors (broken links, missing docs)
	$(IN_ROOT) RUSTDOCFLAGS="-D warnings" cargo doc --workspace --exclude okta-scaffold --no-deps --locked

# The crates others depend on, packaged and built from their packages as crates.io would (cargo's
# multi-package publish: each one's path dependencies are taken from the packages made before it).
PUBLISHED := native-oidc tauri-plugin-oidc-core tauri-plugin-oidc
# Cargo verifies each package against the others through a local registry, whose sources it unpacks
# under $CARGO_HOME/registry/src/-<hash>/ once per version and never checks again, as it never checks
# what it built from a registry: an earlier run's copy (same version, older code) would be used instead
# of this tree's. So those copies, and what was built of these crates, go first (on a cold cache there
# is nothing to remove; on a warm one these crates are rebuilt).
publish-check: deps-system ## cargo publish --dry-run of the publishable crates
	rm -rf $(foreach crate,$(PUBLISHED),$${CARGO_HOME:-$$HOME/.cargo}/registry/src/-*/$(crate)-[0-9]* $(TARGET)/debug/.fingerprint/$(crate)-[0-9a-f]*[0-9a-f])
	$(IN_ROOT) cargo publish --dry-run --locked $(addprefix -p ,$(PUBLISHED))

rust-tests: deps-system deps-node ## every Rust test of the workspace (unit, engine, CLI, tauri-plugin-oidc-core, demo API; the real dev/idp, a real Secret Service)
	$(IN_ROOT) cargo test --workspace --exclude okta-scaffold --locked

# Type-checks the app's library (the plugin, the keystores, the engine) for Android, iOS, macOS and
# Windows, which this machine cannot build for, so a platform-only compile error shows up here. Nothing
# is linked, so the C that ring and objc2 compile for the target is not needed (nor the platforms' SDKs):
# their build scripts are replaced, through their `links` keys, by empty link settings.
CROSS_TARGETS := aarch64-linux-android aarch64-apple-ios aarch64-apple-darwin x86_64-pc-windows-gnu
RING_LINKS := ring_core_$(subst .,_,$(shell sed -n '/^name = "ring"$$/{n;s/^version = "\(.*\)"/\1/p}' $(ROOT)/Cargo.lock))_
cross-check: ## type-checks the app for Android, iOS, macOS and Windows
	@$(IN_ROOT) for t in $(CROSS_TARGETS); do \
		echo "cargo check --target $$t"; \
		RUSTFLAGS="-D warnings" cargo check --locked --lib -p okta-signin-app --target $$t \
			--config "target.$$t.$(RING_LINKS).rustc-link-lib=[]" \
			--config "target.$$t.objc2_exception_helper_0_1.rustc-link-lib=[]" || exit 1; \
	done

ui-tests: ## the web UI's JavaScript tests (node --test)
	$(IN_ROOT) node --test $(ROOT)/ui/test/

# The plugin's JavaScript package (crates/tauri-plugin-oidc, `npm run ci`): npm ci, tsc of guest-js/,
# the committed dist-js/ and api-iife.js checked against a fresh rollup build, and the node tests (the
# API over a fake __TAURI_INTERNALS__, window.__TAURI__.oidc from api-iife.js, npm pack's contents, a
# strict TypeScript app against the packed tarball).
PLUGIN_JS := $(ROOT)/crates/tauri-plugin-oidc
plugin-js-tests: ## the plugin's npm package: types, committed build output, tests, npm pack contents
	@command -v node >/dev/null || { echo "Node.js 20.19+ is required"; exit 1; }
	$(IN_ROOT) npm --prefix $(PLUGIN_JS) run ci

idp-tests: deps-node ## dev/idp's own tests (Okta-like behaviour of the local identity provider)
	$(IN_ROOT) npm --prefix $(ROOT)/dev/idp test

# A real browser (Chromium, in a window on Xvfb) on each identity-provider page that ends in a redirect
# to a native app: it must follow the redirect and hand the URL to the OS URL handler (crates/e2e).
XVFB := xvfb-run -a -s "-screen 0 1280x900x24" dbus-run-session --
browser-check: deps-system deps-node ## each identity-provider page that ends in the app's redirect, in a real Chromium
	$(IN_ROOT) cargo build --locked -p signin-cli -p e2e --bins
	$(IN_ROOT) $(XVFB) cargo test --locked -p e2e --test main -- --ignored --exact idp_pages::idp_pages_hand_off_to_the_app_in_a_real_browser

# The real app in a real webview under Xvfb, signing in through Chromium and the OS URL handler
# (crates/e2e). Screenshots: target/e2e/*.png.
e2e: deps-system deps-node $(TAURI_DRIVER) ## the real app in a real webview, signing in through Chromium and the OS URL handler
	$(IN_ROOT) cargo build --locked -p okta-signin-app -p demo-api -p signin-cli -p e2e --bins
	$(IN_ROOT) PATH="$(TOOLS)/bin:$$PATH" $(XVFB) cargo test --locked -p e2e --test main -- --ignored --exact app::app_signs_in_through_the_system_browser

# The app a Tauri developer starts from (crates/tauri-plugin-oidc/examples/scaffolded: create-tauri-app
# 4.7.4, Vite + TypeScript) with the plugin README's steps: the npm package as `npm pack` makes it now
# (no lock file: npm would take a cached tarball of the same version and integrity instead), its
# page built by Vite (strict TypeScript), the app built as a workspace member (the workspace's
# dependency versions and target folder), then signing in through Chromium and the OS URL handler.
# The workspace-wide steps leave it out (--exclude okta-scaffold): its Rust needs the page Vite builds
# here, so it is linted here.
SCAFFOLDED := $(ROOT)/crates/tauri-plugin-oidc/examples/scaffolded
scaffolded-e2e: deps-system deps-node deps-rust $(TAURI_DRIVER) ## a freshly scaffolded Vite + TypeScript app with the README's steps, end to end
	rm -rf $(SCAFFOLDED)/tauri-plugin-oidc-api-*.tgz $(SCAFFOLDED)/node_modules/tauri-plugin-oidc-api
	cd $(ROOT)/crates/tauri-plugin-oidc && npm pack --silent --pack-destination $(SCAFFOLDED)
	npm install --prefix $(SCAFFOLDED) --no-audit --no-fund --no-save --no-package-lock
	npm run --prefix $(SCAFFOLDED) build
	$(IN_ROOT) cargo clippy --locked -p okta-scaffold -- -D warnings
	$(IN_ROOT) cargo build --locked -p okta-scaffold -p demo-api -p e2e --bins
	$(IN_ROOT) PATH="$(TOOLS)/bin:$$PATH" $(XVFB) cargo test --locked -p e2e --test main -- --ignored --exact scaffolded::a_freshly_scaffolded_app_signs_in_with_the_readme_steps

$(TAURI_DRIVER):
	$(IN_ROOT) cargo install --locked tauri-driver --version '^2' --root $(TOOLS)

# Fuzzing (crates/fuzz; README, "Fuzzing"): one libFuzzer target per parser of outside input, built by
# cargo-fuzz on stable Rust (`--sanitizer none`: coverage instrumentation only) into crates/fuzz/target,
# with crates/fuzz/Cargo.lock as it is (checked by `cargo fetch --locked` first). Each target starts from
# its committed seeds (crates/fuzz/seeds/<target>) and the inputs earlier runs found (corpus/<target>,
# not committed); a crash stops the run with the input in crates/fuzz/artifacts/<target>/.
# `make fuzz` runs each target FUZZ_SECONDS; `fuzz-check`, in `make test`, FUZZ_CHECK_SECONDS.
CARGO_FUZZ := $(TOOLS)/bin/cargo-fuzz
FUZZ_DIR := $(ROOT)/crates/fuzz
FUZZ_TARGETS := callback discovery token_response device_authorization userinfo id_token jwks dpop_proof www_authenticate config session pending accounts keystore_head sso_share
FUZZ_SECONDS ?= 300
FUZZ_CHECK_SECONDS ?= 8
FUZZ_RUN = $(IN_ROOT) cargo fetch --locked --manifest-path $(FUZZ_DIR)/Cargo.toml && \
	$(CARGO_FUZZ) fuzz build --sanitizer none --fuzz-dir $(FUZZ_DIR) && \
	for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t: $(1) s"; \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t && \
		$(CARGO_FUZZ) fuzz run --sanitizer none --fuzz-dir $(FUZZ_DIR) $$t \
			$(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/seeds/$$t -- -max_total_time=$(1) \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ 2>&1 | \
			grep -E -A1 --no-group-separator '^(stat::number_of_executed_units|stat::average_exec_per_sec|==|SUMMARY|Done)|panicked|Test unit written'; \
		[ "$${PIPESTATUS[0]}" = 0 ] || { echo "fuzz $$t: crashed, see $(FUZZ_DIR)/artifacts/$$t/"; exit 1; }; \
	done

$(CARGO_FUZZ):
	$(IN_ROOT) cargo install --locked cargo-fuzz --version '^0.13' --root $(TOOLS)

fuzz: deps-system $(CARGO_FUZZ) ## every fuzz target for FUZZ_SECONDS (default 300) each
	$(call FUZZ_RUN,$(FUZZ_SECONDS))

fuzz-check: deps-system $(CARGO_FUZZ) ## every fuzz target for a few seconds (in make test)
	$(call FUZZ_RUN,$(FUZZ_CHECK_SECONDS))

# The chaos test (crates/chaos; README, "Chaos test"): `signin` processes and an in-process app share one
# session against dev/idp while gnome-keyring is stopped and restarted, every keystore session is
# chunked, a tmpfs fills up (root only; else a simulated full disk in the app's vault), a fault proxy
# delays, fails and drops requests, and processes are SIGKILLed; invariants after every operation.
# `make chaos` is the long run (>= 5,000 operations and >= 20 keystore outages without kills, >= 200
# kills); `chaos-check` the short bounded one (about 1 to 4 minutes). CHAOS_ARGS="--seed N" replays a seed.
CHAOS_BUILD := $(IN_ROOT) cargo build --locked -p chaos -p signin-cli -p testkit --bins
chaos: deps-system deps-node ## the long chaos run: processes, kills, keystore outages, full disk, a faulty provider
	$(CHAOS_BUILD)
	$(IN_ROOT) $(TARGET)/debug/chaos $(CHAOS_ARGS)

chaos-check: deps-system deps-node ## a short chaos run (in make test)
	$(CHAOS_BUILD)
	$(IN_ROOT) timeout 600 $(TARGET)/debug/chaos --short $(CHAOS_ARGS)

$(TAURI_CLI):
	$(IN_ROOT) npm install --prefix $(TOOLS)/npm-$(TAURI_CLI_VERSION) --no-save --no-audit --no-fund @tauri-apps/cli@$(TAURI_CLI_VERSION)

# The installable Linux package: a release build, bundled by the Tauri CLI (tauri.conf.json's
# desktopTemplate gives its .desktop file `Exec=… %u` and the URL scheme).
bundle: deps-system $(TAURI_CLI) ## the installable Linux package (.deb)
	$(IN_ROOT) $(TAURI_CLI) build --bundles deb --ci
	@ls $(TARGET)/release/bundle/deb/*.deb

# Checks the package: its files, its .desktop file (desktop-file-validate, scheme, %u).
bundle-check: bundle ## the .deb's files and its URL-scheme registration
	$(IN_ROOT) E2E_DEB="$$(ls $(TARGET)/release/bundle/deb/*.deb | head -n 1)" \
		cargo test --locked -p e2e --test main -- --ignored --exact package::the_deb_installs_an_app_that_handles_the_url_scheme

# Signs in through the *installed* app: the OS URL handler hands the link to the binary the package
# installed. It installs the package system-wide (dpkg -i), so it runs only where CI is set (CI's throwaway
# machine sets it); elsewhere it says how to run it.
e2e-installed: bundle $(TAURI_DRIVER) ## signs in through the installed .deb (runs only where CI is set: it installs system-wide)
	@if [ -z "$$CI" ]; then \
		echo "e2e-installed: skipped (it runs dpkg -i; set CI=1 on a throwaway machine to run it)"; \
	else \
		$(IN_ROOT) $(SUDO) dpkg -i "$$(ls $(TARGET)/release/bundle/deb/*.deb | head -n 1)" && \
		cargo build --locked -p demo-api -p e2e --bins && \
		PATH="$(TOOLS)/bin:$$PATH" $(XVFB) cargo test --locked -p e2e --test main -- --ignored --exact installed::the_installed_app_signs_in_through_the_os_url_handler; \
	fi

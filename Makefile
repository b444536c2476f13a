# The two commands of the README:
#   make run   – the app with the local identity provider and the demo API
#   make test  – everything CI runs
# Both install what they need first.

SHELL := /bin/bash
NPM_STAMP := dev/idp/node_modules/.package-lock.json

.PHONY: test run deps-node check-tools fmt-check clippy rust-tests idp-tests

test: deps-node fmt-check clippy rust-tests idp-tests

# npm ci only when the lock file changed since the last install.
deps-node: $(NPM_STAMP)
$(NPM_STAMP): dev/idp/package-lock.json
	npm --prefix dev/idp ci --no-audit --no-fund
	@touch $@

check-tools:
	@command -v node >/dev/null || { echo "Node.js 20+ is required"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

fmt-check: check-tools
	cargo fmt --all -- --check

clippy: check-tools
	cargo clippy --workspace --all-targets --locked -- -D warnings

rust-tests: deps-node
	cargo test --workspace --locked

idp-tests: deps-node
	npm --prefix dev/idp test

# Until the app lands (issue #4): the local identity provider on port 9000.
run: deps-node
	PORT=$${PORT:-9000} npm --prefix dev/idp start

# Everything a fresh clone needs goes through here; .ci/run calls `make test`.
GO          ?= go
BIN         := bin/xinling
FUZZTIME    ?= 15s

# --- Go tools ---
# Each tool is installed by `go install` at a pinned module version into a
# directory named after that version under TOOLBIN, and run from there:
# never from PATH or $(go env GOPATH)/bin, where an old binary once hid a
# pin that a fresh machine could not fetch. A changed pin installs anew.
# .ci/run points TOOLBIN at a throwaway directory of its own.
TOOLBIN     ?= $(CURDIR)/bin/tools
# staticcheck: pinned so that a new release cannot turn main red on its
# own. The module proxy knows it by module version only: v0.8.2 is the
# release staticcheck calls 2026.2.2.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(TOOLBIN)/staticcheck-$(STATICCHECK_VERSION)/staticcheck

# --- Debian packages ---
# Code slips and printed reports set Chinese in Debian's
# fonts-droid-fallback (see slips/ and printout/); printout's tests read
# the PDFs back with poppler-utils; the end-to-end tests drive Debian's
# chromium.
CJK_FONT     := /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
POPPLER      := pdftotext pdftoppm pdfinfo pdffonts
DEB_PACKAGES := fonts-droid-fallback chromium poppler-utils
APT_INSTALL  := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq

.PHONY: build run test vet lint unit bench bench-http fuzz tools go-tools fonts poppler clean webapp webapp-test e2e chromium deb-packages

# The web app is built into the binary (webapp/embed.go), so it comes first.
build: webapp
	$(GO) build -o $(BIN) ./cmd/xinling

# --- web app (webapp/: Vue 3 + Vite, see webapp/README.md) ---
NPM          ?= npm
WEBAPP_SRC   := $(shell find webapp/m webapp/console webapp/src webapp/vite.config.js -type f -not -name '*.test.js' 2>/dev/null)
WEBAPP_STAMP := webapp/dist/.vite/chunks.json
NODE_STAMP   := webapp/node_modules/.package-lock.json

$(NODE_STAMP): webapp/package.json webapp/package-lock.json
	cd webapp && $(NPM) ci --no-audit --no-fund
	@# go's ./... would wander into any Go files a package ships; a go.mod
	@# makes node_modules a module of its own, outside ours.
	@echo 'module ignore_node_modules' > webapp/node_modules/go.mod
	@touch $@

$(WEBAPP_STAMP): $(NODE_STAMP) $(WEBAPP_SRC)
	cd webapp && $(NPM) run build

webapp: $(WEBAPP_STAMP)

# Unit tests (Vitest) and the H5's JavaScript budget.
webapp-test: webapp
	cd webapp && $(NPM) test
	cd webapp && $(NPM) run size

# End-to-end journeys in Debian's headless Chromium against `xinling serve`.
e2e: build chromium
	cd webapp && XINLING_BIN=$(CURDIR)/$(BIN) $(NPM) run e2e

# Debian's Chromium; the tests must never download a browser of their own.
# Installed when missing (as root); deb-packages below installs it always.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && $(APT_INSTALL) chromium; } || \
		{ echo "install Debian's chromium: the end-to-end tests drive /usr/bin/chromium"; exit 1; }

# Every Debian package the tests use, through apt whether or not it is
# already here, so that a package name that no longer resolves fails on
# every machine, not only on a new one. The package lists are fetched
# only when the install cannot go ahead without them (a new machine).
deb-packages:
	$(APT_INSTALL) $(DEB_PACKAGES) || { apt-get update -qq && $(APT_INSTALL) $(DEB_PACKAGES); }

# The server with the embedded store in ./data, on http://127.0.0.1:8080,
# after seeding the demo org tree, its sign-ins and (once per store) the
# screening the demo school sat last week, and printing the sign-ins. Without
# XINLING_DATA_KEY, --dev-key makes (once) and uses a development key in
# ./data/dev-data-key, and both commands print a loud warning about it.
run: build
	./$(BIN) demo --dev-key --school
	./$(BIN) serve --dev-key

test: vet lint unit test-mongo test-multiserver webapp-test e2e

# vet also builds api's tests with the fuzzdecode tag, as the decoder fuzz
# target does: a test helper file without the !fuzzdecode tag breaks only that build.
vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags fuzzdecode ./api/

# The binary must report the pinned version: a tool that installed but is
# not the one pinned fails here, not later in a confusing way.
$(STATICCHECK):
	GOBIN=$(@D) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@$@ -version | grep -qF '($(STATICCHECK_VERSION:v%=%))' || { $@ -version; echo "staticcheck is not $(STATICCHECK_VERSION)"; rm -f $@; exit 1; }

go-tools: $(STATICCHECK) ferretdb

# FerretDB, the MongoDB-wire server make test-mongo runs the MongoDB store
# against; built from the Go module proxy into TOOLBIN (scripts/with-ferretdb).
.PHONY: ferretdb
ferretdb:
	@TOOLBIN=$(TOOLBIN) GO=$(GO) scripts/with-ferretdb --build

tools: go-tools fonts poppler

# Installs the font when it is missing and apt can (CI and root shells).
fonts:
	@test -f $(CJK_FONT) || { apt-get update -qq && $(APT_INSTALL) fonts-droid-fallback; } || \
		{ echo "install Debian's fonts-droid-fallback: code slips need its Chinese glyphs"; exit 1; }

# Installs poppler-utils when any of its tools printout's tests use is
# missing and apt can; the tests fail, never skip, without them.
poppler:
	@(for t in $(POPPLER); do command -v $$t >/dev/null || exit 1; done) || \
		{ apt-get update -qq && $(APT_INSTALL) poppler-utils; } || \
		{ echo "install Debian's poppler-utils: printout's tests read the PDFs back with $(POPPLER)"; exit 1; }

lint: $(STATICCHECK)
	$(STATICCHECK) ./...

unit: fonts poppler
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./engine/...
	$(GO) test -run '^$$' -bench DurableAnswers -benchtime 20000x ./store/sqlite/

# The answer path against a bare Fiber handler in one run, plus the
# 3,000-create burst and 100,000 respondents at human pace (issue 18):
# about five minutes; SCENARIOS="default long" for the two ratios alone.
bench-http: build
	BIN=$(BIN) GO=$(GO) scripts/bench-http

# Bounded fuzzing of every fuzz target; FUZZTIME sets the time per target.
# A failure writes its input to the package's testdata/fuzz/<target>/;
# commit it with the fix and it runs as a plain test from then on.
# Each entry is package:target[:build tags] (see api/fuzz_test.go).
FUZZ_TARGETS := engine:FuzzLoad engine:FuzzScore api:FuzzDecode:fuzzdecode api:FuzzScanAnswer:fuzzdecode api:FuzzDuplicateKey roster:FuzzParse instrumentbook:FuzzImport
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; target=$${rest%%:*}; tags=$${rest#"$$target"}; tags=$${tags#:}; \
		echo "fuzz $$pkg $$target for $(FUZZTIME)"; \
		$(GO) test ./$$pkg -tags "$$tags" -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s; \
	done

.PHONY: fuzz-ci
# CI's share: every target for a short, fixed time (7 x 10 s plus builds,
# under 3 minutes on the 2-core runner).
fuzz-ci:
	$(MAKE) fuzz FUZZTIME=10s

clean:
	rm -rf bin

# test-mongo runs the MongoDB store's tests against a server: the store
# contract (plain and through the sealing layer) and the fault-injection
# tests that stop each multi-document write after every step. With
# XINLING_TEST_MONGO_URI it uses that server: a real MongoDB replica set is
# the production target, e.g.
#   XINLING_TEST_MONGO_URI=mongodb://localhost:27017/?replicaSet=rs0 make test-mongo
# Without it, scripts/with-ferretdb builds FerretDB v1.24.2 (a MongoDB-wire
# server on SQLite) from the Go module proxy, starts it on a free loopback
# port and runs the tests against that. Part of make test.
.PHONY: test-mongo
MONGO_TESTS := $(GO) test -race -count=1 ./store/mongo/
test-mongo:
	@if [ -n "$$XINLING_TEST_MONGO_URI" ]; then $(MONGO_TESTS); \
	else TOOLBIN=$(TOOLBIN) GO=$(GO) scripts/with-ferretdb $(MONGO_TESTS); fi

# test-multiserver runs several `xinling serve` on one MongoDB-wire store
# (issue 15): three servers under load, one killed with SIGKILL mid-load,
# then `xinling verify` on the ack and submit logs; and a console on one
# server that must see a level-1 warning filed through another within
# --queue-feed plus one second. XINLING_TEST_MONGO_URI or FerretDB, as for
# test-mongo; each test uses a database of its own and drops it.
# XINLING_MULTISERVER_DURATION and XINLING_MULTISERVER_RESPONDENTS make the
# load longer or heavier. Part of make test.
.PHONY: test-multiserver
MULTISERVER_TESTS := $(GO) test -race -count=1 -run MultiServer -v ./loadgen/
test-multiserver:
	@if [ -n "$$XINLING_TEST_MONGO_URI" ]; then $(MULTISERVER_TESTS); \
	else TOOLBIN=$(TOOLBIN) GO=$(GO) scripts/with-ferretdb $(MULTISERVER_TESTS); fi

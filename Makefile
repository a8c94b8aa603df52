# Two commands on a fresh machine (see README):  make demo   |   make test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The frontend toolchain lives in the project: bun from npm (Reflex's own download needs
# the internet), used by Reflex through REFLEX_USE_SYSTEM_BUN and PATH.
TOOLS := .tools
BUN := $(TOOLS)/node_modules/.bin/bun
# axe-core for the browser tests' accessibility check (tests/e2e/page_checks.py injects it).
AXE := $(TOOLS)/node_modules/axe-core/axe.min.js
CHROMIUM := /usr/bin/chromium
FAKETIME := /usr/bin/faketime
# The second test run: the non-browser tests with the system clock a year and more ahead.
LATER ?= +400 days
export REFLEX_USE_SYSTEM_BUN := 1
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)

# The demo: one port for the app (production mode), its database, a development JWT secret.
# SELFCARE_ENV=dev is what makes it a demo (the outbox page with the sign-in codes); without it
# the app and the core are production and refuse to start without their own secret.
DEMO_PORT ?= 3000
DEMO_HOST ?= 127.0.0.1
DEMO_DB ?= sqlite:///var/selfcare.db
DEMO_SECRET ?= demo-secret-only-for-the-local-demo-0123456789

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

$(BUN):
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error bun
	$(BUN) --version

$(AXE):
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error axe-core@4

# Debian's Chromium for the browser tests and bench/web.py (Playwright drives it; its own
# browser download is not used). CI runs as root; elsewhere sudo is asked for.
$(CHROMIUM):
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium'

# Debian's libfaketime, for the test run at another date.
$(FAKETIME):
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q faketime'

.PHONY: install tools browser demo serve test test-later lint bench bench-web lighthouse-tools bench-lighthouse i18n
install: $(STAMP) tools
tools: $(BUN) $(AXE)
browser: $(CHROMIUM) $(FAKETIME)

# Seeds the demo operator on first start (an empty database), then runs the app in
# production mode on http://localhost:$(DEMO_PORT) with the core embedded under /core.
demo: install
	mkdir -p var
	SELFCARE_ENV=dev DATABASE_URL='$(DEMO_DB)' SELFCARE_JWT_SECRET='$(DEMO_SECRET)' \
	  $(BIN)/python .ci/demo_seed.py --customers 200 --months 12
	@echo
	@echo "Selfcare: http://localhost:$(DEMO_PORT)   (first start builds the frontend: about a minute)"
	@echo "Sign in with a customer number (e.g. K100001); the one-time code is shown on"
	@echo "http://localhost:$(DEMO_PORT)/dev/outbox (the demo's sent messages; not in production)."
	@echo "The core API: http://localhost:$(DEMO_PORT)/core/docs"
	@echo
	SELFCARE_ENV=dev DATABASE_URL='$(DEMO_DB)' SELFCARE_JWT_SECRET='$(DEMO_SECRET)' \
	  SELFCARE_PORT=$(DEMO_PORT) $(BIN)/reflex run --env prod --backend-host $(DEMO_HOST)

# The core API alone (no app): http://127.0.0.1:8001/docs (dev: a random JWT secret for the process,
# the tokens to try it with are printed)
serve: $(STAMP)
	SELFCARE_ENV=dev $(BIN)/python -m backend_stub demo

# The whole suite, then the non-browser tests again with the system clock moved $(LATER):
# the suite must pass on any date.
test: install browser
	$(BIN)/python -m pytest -n 2 -q
	$(MAKE) --no-print-directory test-later

test-later: install $(FAKETIME)
	@echo "== again with the system clock moved $(LATER) =="
	$(FAKETIME) '$(LATER)' $(BIN)/python -m pytest -n 2 -q -p no:cacheprovider --ignore=tests/e2e

# Extract the app's texts and update the catalogues (selfcare/locales/README.md).
i18n: $(STAMP)
	$(BIN)/python -m selfcare.locales.extract

lint: $(STAMP)
	$(BIN)/ruff check backend_stub selfcare selfcare_common tests bench rxconfig.py .ci
	$(BIN)/ruff format --check backend_stub selfcare selfcare_common tests bench rxconfig.py .ci
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python bench/rating.py

bench-web: install browser
	$(BIN)/python bench/web.py

# Lighthouse 12 from npm into .tools/ (bench/lighthouse.py runs it on Debian's Chromium).
lighthouse-tools: install browser
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error lighthouse@12

bench-lighthouse: lighthouse-tools
	$(BIN)/python bench/lighthouse.py

# The two commands: `make run` and `make test`. Each sets up everything it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= ./data
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck unit bench clean venv docs-settings docs-operations \
	frontend frontend-test api-client chromium docs-screenshots

# The browser app: npm packages from the lock file, built by Vite into the Python package.
FRONTEND_DEPS := frontend/node_modules/.installed
STATIC        := src/datamill/static/index.html
FRONTEND_SRC  := $(shell find frontend/src -type f -not -name schema.d.ts 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/openapi.json
NPM_FLAGS     := --no-fund --no-audit --loglevel=error
SUDO          := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

$(FRONTEND_DEPS): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci $(NPM_FLAGS)
	touch $@

$(STATIC): $(FRONTEND_DEPS) $(FRONTEND_SRC)
	cd frontend && npm run --silent api && npm run --silent build

frontend: $(STATIC)

# After changing the API: rewrite the OpenAPI document the typed client is generated from.
api-client: $(STAMP) $(FRONTEND_DEPS)
	$(BIN)/python -m datamill.openapi > frontend/openapi.json
	cd frontend && npm run --silent api

# Browser tests drive the system Chromium (Debian's package); Playwright downloads nothing.
chromium:
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

run: $(STAMP) $(STATIC)
	DATAMILL_DATA_DIR=$(DATA) $(BIN)/datamill demo
	DATAMILL_DATA_DIR=$(DATA) $(BIN)/datamill serve --host $(HOST) --port $(PORT)

test: $(STAMP) $(STATIC) chromium lint typecheck frontend-test
	$(BIN)/python -m pytest

frontend-test: $(FRONTEND_DEPS)
	cd frontend && npm run --silent api && npm run --silent lint && npm run --silent typecheck && npm run --silent test

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples docs
	$(BIN)/ruff format --check src tests bench examples docs

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP) $(STATIC) chromium
	$(BIN)/python bench/datasets.py
	$(BIN)/python bench/runs.py
	$(BIN)/python bench/operations.py
	$(BIN)/python bench/ui.py

docs-settings: $(STAMP)
	$(BIN)/python -m datamill.config > docs/settings.md

# The user guide's pictures, from the demo in the system Chromium: look at them before committing.
docs-screenshots: $(STAMP) $(STATIC) chromium
	$(BIN)/python docs/screenshots.py

docs-operations: $(STAMP)
	$(BIN)/python -m datamill.operations.reference > docs/operations.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache frontend/node_modules src/datamill/static

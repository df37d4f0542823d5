# The two commands: `make run` and `make test`. Each sets up everything it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= ./data
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck unit bench clean venv docs-settings docs-operations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	DATAMILL_DATA_DIR=$(DATA) $(BIN)/datamill demo
	DATAMILL_DATA_DIR=$(DATA) $(BIN)/datamill serve --host $(HOST) --port $(PORT)

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/datasets.py
	$(BIN)/python bench/runs.py
	$(BIN)/python bench/operations.py

docs-settings: $(STAMP)
	$(BIN)/python -m datamill.config > docs/settings.md

docs-operations: $(STAMP)
	$(BIN)/python -m datamill.operations.reference > docs/operations.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

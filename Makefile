# The two README commands: `make demo` (main job on bundled data) and `make test` (whole suite).
# Both create .venv and install the project on first use, so a fresh machine needs only python3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.gongpei-installed
# The test tools (pytest, ruff, playwright, ...) and Debian's chromium: `make test` only, so
# `make demo` installs what the program needs and no browser.
DEV_STAMP := $(VENV)/.gongpei-dev-installed

.PHONY: demo test lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	bash scripts/ensure-browser.sh
	touch $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/gongpei demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

# One pytest worker per core (pytest-xdist): each worker has its own database schema and data dir.
test: $(DEV_STAMP) lint
	$(BIN)/python -m pytest -n auto

bench: $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'

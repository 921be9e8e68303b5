# The two README commands: `make demo` (main job on bundled data) and `make test` (whole suite).
# Both create .venv and install the project on first use, so a fresh machine needs only python3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.gongpei-installed

.PHONY: demo test lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	bash scripts/ensure-browser.sh
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gongpei demo

lint: $(STAMP)
	$(BIN)/ruff check .

# One pytest worker per core (pytest-xdist): each worker has its own database schema and data dir.
test: $(STAMP) lint
	$(BIN)/python -m pytest -n auto

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'

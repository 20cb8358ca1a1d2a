# Sluis: `make run` starts a demo gateway, `make test` runs every check CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := var/demo
DEMO_ENV := SLUIS_DATA_DIR=$(DEMO) SLUIS_KEY_DIR=$(DEMO)/keys SLUIS_POLICY_DIR=policies

.PHONY: run test lint typecheck unit install clean bench

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	@test -f $(DEMO)/keys/db.key || $(DEMO_ENV) $(BIN)/gateway init
	$(DEMO_ENV) $(BIN)/gateway serve

lint: $(STAMP)
	$(BIN)/ruff check gateway tests benchmarks wsgi.py

typecheck: $(STAMP)
	$(BIN)/mypy gateway

unit: $(STAMP)
	$(BIN)/python -m pytest --cov --cov-report=term

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage *.egg-info

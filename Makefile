# The two commands a fresh machine needs (Python 3.11, root, registries only):
#   make run    set up, then serve on the embedded default (SQLite, models in process)
#   make test   set up (plus the Debian packages the tests use), then the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv models system lint check clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

venv: $(STAMP)

models: $(STAMP)
	$(BIN)/smilepay models fetch --with-noncommercial
	$(BIN)/smilepay models verify --with-noncommercial

system:
	bash scripts/install-system.sh

run: models
	$(BIN)/smilepay demo-seed
	$(BIN)/smilepay serve

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

test: models system lint
	$(BIN)/python -m pytest tests

clean:
	rm -rf $(VENV) .models var artifacts

# The two commands a fresh machine needs (Python 3.11, root, registries only):
#   make run    set up, then serve on the embedded default (SQLite, models in process)
#   make test   set up (plus the Debian packages the tests use), then the whole suite
#
# The non-commercial w600k_mbf weights are off by default and fetched only when allowed:
#   make run SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS=true   (the environment variable works too;
#   it is the setting that lets the server use them), or make run NONCOMMERCIAL=1
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS ?= false
NONCOMMERCIAL ?= $(filter true True TRUE 1 yes on,$(SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS))
MODEL_FLAGS := $(if $(strip $(NONCOMMERCIAL)),--with-noncommercial,)

.PHONY: run test venv models system lint check clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

venv: $(STAMP)

models: $(STAMP)
	$(BIN)/smilepay models fetch $(MODEL_FLAGS)
	$(BIN)/smilepay models verify $(MODEL_FLAGS)

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

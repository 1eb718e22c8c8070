# 云阳县消费扶贫助手 — every target installs what it needs first (venv, packages, trained model).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
# Python 3.10 as .python-version selects it through pyenv; python3.10 on PATH otherwise.
BOOTSTRAP_PYTHON ?= $(shell pyenv which python 2>/dev/null || command -v python3.10)

INSTALLED := $(VENV)/.installed
DEV_INSTALLED := $(VENV)/.installed-dev
RASA := $(VENV)/bin/rasa
MODEL := models/fupin.tar.gz
# pytest-xdist workers for `make test` (the machine's two cores); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
# What the trained model depends on; the vocabulary files are generated from the database.
TRAINING_INPUTS := config.yml $(wildcard domain/*.yml) $(wildcard data/*.yml) data/lookups.yml nlu/dictionary/userdict.txt

.PHONY: help install run test test-fast test-dialogue lint format train vocab validate eval-nlu bench clean clean-data

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt .python-version
	@test -x $(PY) || { test -n "$(BOOTSTRAP_PYTHON)" || { echo "Python 3.10 not found (pyenv install 3.10.13)"; exit 1; }; $(BOOTSTRAP_PYTHON) -m venv $(VENV); }
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' || { echo "$(VENV) is not Python 3.10: remove it and retry"; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check pip==24.0
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(DEV_INSTALLED): $(INSTALLED) requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(INSTALLED) ## Create .venv and install the pinned packages

run: train ## Prepare the database (demo catalogue), train the model when stale, start the bot
	$(PY) -m bot run

test: $(DEV_INSTALLED) train validate ## Validate and train, then run every test (PostgreSQL ones when TEST_DATABASE_URL is set)
	@if [ -z "$$TEST_DATABASE_URL" ]; then echo ">>> TEST_DATABASE_URL is not set: the PostgreSQL tests are SKIPPED (e.g. TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make test)"; fi
	@tools/ensure_chromium.sh
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out results/core
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

# The edit-test loop: no model, no processes, SQLite only (PostgreSQL runs in `make test`), on two workers.
test-fast: $(DEV_INSTALLED) ## Unit and database tests only (no model, no processes, SQLite), random order
	env -u TEST_DATABASE_URL $(PY) -m pytest -m "(unit or db) and not slow" -q -rfE -n $(TEST_WORKERS)

test-dialogue: $(DEV_INSTALLED) train ## The tests against the loaded model (dialogue tier)
	$(PY) -m pytest -m dialogue -q

vocab: $(INSTALLED) ## Regenerate the NLU vocabulary (jieba dictionary, lookup tables) from the database
	$(PY) -m bot nlu export

train: vocab ## Train the Rasa model when its data, config or vocabulary changed
	@$(MAKE) --no-print-directory $(MODEL)

$(MODEL): $(TRAINING_INPUTS)
	$(RASA) train --domain domain --fixed-model-name fupin --out models
	@touch $@

validate: vocab ## Check the Rasa training data and domain
	$(RASA) data validate --domain domain --max-history 5

eval-nlu: train ## NLU on one screen: both held-out sets, 5-fold cross-validation, confusions, negations, targets
	$(PY) -m nlu.evaluate --model $(MODEL) --folds 5 --out results/nlu-eval.json

lint: $(DEV_INSTALLED) ## Check style (ruff) and types (mypy on all the code: fupin bot actions nlu web harness tests bench)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(DEV_INSTALLED) ## Reformat with ruff
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: train ## Print the benchmarks: catalogue search and import, NLU parse latency, load (in process, 2 workers)
	$(PY) bench/catalog_bench.py
	$(PY) bench/nlu_bench.py
	$(PY) bench/load_bench.py
	$(PY) bench/load_bench.py --workers 2

# The local database (the default DATABASE_URL) and its WAL files: only clean-data deletes them, never clean.
LOCAL_DB := var/fupin.db var/fupin.db-wal var/fupin.db-shm

clean: ## Remove the venv, trained models and results (never the database in var/)
	rm -rf $(VENV) models results

clean-data: ## Delete the local database var/fupin.db (back it up first: python -m bot db backup OUT); needs CONFIRM=yes
	@echo "This deletes the local database: $(LOCAL_DB)"
	@if [ "$(CONFIRM)" != "yes" ]; then echo "Nothing deleted. Back up first (python -m bot db backup OUT), then: make clean-data CONFIRM=yes"; exit 1; fi
	rm -f $(LOCAL_DB)

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

.PHONY: help install run test lint format train validate eval-nlu bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

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

run: $(INSTALLED) ## Prepare the database (demo catalogue) and start the bot
	$(PY) -m bot run

test: $(DEV_INSTALLED) ## Run every test (PostgreSQL ones when TEST_DATABASE_URL is set)
	@if [ -z "$$TEST_DATABASE_URL" ]; then echo ">>> TEST_DATABASE_URL is not set: the PostgreSQL tests are SKIPPED (e.g. TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make test)"; fi
	$(PY) -m pytest

lint: $(DEV_INSTALLED) ## Check style with ruff
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(DEV_INSTALLED) ## Reformat with ruff
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: $(INSTALLED) ## Print the catalogue benchmarks (search p50/p95, import time)
	$(PY) bench/catalog_bench.py

clean: ## Remove the venv, the local database and trained models
	rm -rf $(VENV) var models results

# One target per habit: run, test, lint, audit, bench. Everything installs from this file.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT

.PHONY: run test lint audit bench node browser coturn nginx clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# node_modules first: the package ships the browser's socket.io client (pyproject.toml)
$(VENV)/.runtime: $(BIN)/python pyproject.toml constraints.txt node_modules/.installed
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,lint]'
	touch $@

$(VENV)/.bench: $(VENV)/.dev
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,lint,bench]'
	touch $@

node: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

browser:
	@scripts/ensure-chromium

coturn:
	@scripts/ensure-coturn

nginx:
	@scripts/ensure-nginx

run: $(VENV)/.runtime node
	$(BIN)/teletherapy db upgrade
	$(BIN)/teletherapy demo
	$(BIN)/teletherapy serve --host $(HOST) --port $(PORT)

test: $(VENV)/.dev node browser coturn nginx
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy teletherapy signaling ratings bench
	$(BIN)/bandit -q -r teletherapy signaling ratings -ll
	SEMGREP_ENABLE_VERSION_CHECK=0 $(BIN)/semgrep scan --metrics=off --disable-version-check --error --quiet --config .semgrep/rules.yml teletherapy signaling ratings

# Not part of lint (nor of CI): pip-audit needs PyPI's advisory data, which this machine and
# the CI runners cannot reach, and an audit that could not check fails (scripts/audit-deps).
# Run it where the network allows.
audit: $(VENV)/.dev
	scripts/audit-deps

bench: $(VENV)/.bench node
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache

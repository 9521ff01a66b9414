# The README's two commands: `make demo` (set-up + the whole loop) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The training environment (training/environment/conda.yml): local jobs, MLflow server, scoring servers.
TRAIN_VENV := .venv-train
TRAIN_PY := $(TRAIN_VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: setup demo demo-drift demo-azure test test-fast up down lint bench clean

setup: $(VENV)/.installed $(TRAIN_VENV)/.installed node_modules/.installed local.settings.json

# The app and its tests: exactly requirements.txt, plus test tools.
$(VENV)/.installed: requirements.txt requirements-test.txt requirements-lint.txt
	$(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

$(TRAIN_VENV)/.installed: training/environment/conda.yml requirements-train-tools.txt | $(VENV)/.installed
	$(PY) -m devstack.training_env install $(TRAIN_VENV)
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

# The whole loop with ML_BACKEND=azure against the loopback Azure emulator (emulators/azure).
demo-azure: setup
	$(PY) -m devstack.demo_azure

up: setup
	$(PY) -m devstack.stack

down:
	$(PY) -m devstack.stack --down

# The app (ML_BACKEND=azure) against the loopback Azure emulator, in the foreground (Ctrl-C stops it).
.PHONY: up-azure
up-azure: setup
	$(PY) -m devstack.azure_stack

# The app's tests on requirements.txt's set (.venv); the training code's tests in the training
# environment (.venv-train), where train.py runs locally and in Azure ML.
test: setup
	$(VENV)/bin/lint-imports
	$(PY) -m pytest --ignore=tests/training
	$(TRAIN_PY) -m pytest tests/training -q -n 2 --dist worksteal

# No servers, no package index: unit, blueprint (in process), the fake side of the port suites, training
# (temporary MLflow store). `make test` runs everything, the package-index resolution checks included.
test-fast: setup
	$(VENV)/bin/lint-imports
	$(PY) -m pytest tests/unit tests/blueprints tests/ports -m "not integration and not e2e and not package_index" -q -n 2 --dist worksteal
	$(TRAIN_PY) -m pytest tests/training -m "not integration and not e2e" -q -n 2 --dist worksteal

lint: $(VENV)/.installed
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) bench/cold_start.py
	$(PY) bench/loop.py
	$(PY) bench/outer_loop.py
	$(PY) bench/endpoint_latency.py

clean:
	rm -rf .local

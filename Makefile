# The platform's commands. `make run` and `make test` set up everything they need on a machine
# with Python 3.11 and make.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
ROLE   ?= national_admin
TENANT ?= US
# Empty unless given on the command line (make token SUB=… NAME=… TRIBE=1): an environment's NAME is not a user's name.
SUB    :=
NAME   :=
TRIBE  :=

.PHONY: run test lint unit integration e2e constraints token bench migrate seed install clean

# Parallel test processes (pytest-xdist): 3 on the 2-core reference machine, where tests mostly wait
# on PostgreSQL, RabbitMQ and sockets (docs/testing.md has the figures). PYTEST_WORKERS=0 runs in one.
PYTEST_WORKERS ?= 3
PARALLEL := -n $(PYTEST_WORKERS) --dist loadgroup

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,run]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## migrate: apply every service's migrations (embedded default unless DATABASE_URL is set)
migrate: $(STAMP)
	$(BIN)/python -m services.manage migrate

## seed: migrate, then load the curriculum and the jurisdictions (idempotent, create-only)
seed: $(STAMP)
	$(BIN)/python -m services.manage migrate seed

## run: the whole platform: the embedded default (SQLite, filesystem broker) unless DATABASE_URL or BROKER_URL is set
run: seed
	@$(BIN)/python -m shared.launcher

## lint: ruff (lint and format check) and the import contracts; `make test` runs it first
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## unit: the tests that need no database, broker, files or subprocess (seconds)
unit: $(STAMP)
	$(BIN)/python -m pytest -m unit

## integration: real SQLite, PostgreSQL and RabbitMQ, services' apps and servers in the test process
integration: $(STAMP)
	$(BIN)/python -m pytest -m integration $(PARALLEL)

## e2e: the platform's processes started as deployed
e2e: $(STAMP)
	$(BIN)/python -m pytest -m e2e

## test: lint, unit and integration in one parallel run, then e2e alone (one process); with CI=true the PostgreSQL and RabbitMQ tests must run, never skip
test: lint
	$(BIN)/python -m pytest -m "unit or integration" $(PARALLEL)
	$(BIN)/python -m pytest -m e2e

## constraints: pin every package anew (newest the bounds in pyproject.toml allow) in constraints.txt
constraints:
	rm -rf .constraints-venv
	$(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/python -m pip install --quiet --upgrade pip
	.constraints-venv/bin/python -m pip install --quiet '.[dev,run]'
	{ echo "# Exact versions of every package, runtime and dev: make install and the Dockerfile install with -c."; \
	  echo "# Refresh with make constraints (the newest versions pyproject.toml's bounds allow), then make test."; \
	  .constraints-venv/bin/python -m pip freeze --exclude t4t-platform; } > constraints.txt
	rm -rf .constraints-venv build

## token: a development token, e.g. make token ROLE=facilitator TENANT=CA SUB=ana NAME="Ana Ruiz"
token: $(STAMP)
	@$(BIN)/python -m shared.devtoken --role $(ROLE) --tenant $(TENANT) --sub "$(SUB)" --name "$(NAME)" $(if $(TRIBE),--tribe)

## bench: throughput figures as ratios to this machine's own ceilings, then the portal's pages under 20 people
bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.portal

## clean: remove the virtualenv, the embedded data (var/) and every build and test leftover
clean:
	rm -rf $(VENV) var build dist *.egg-info .pytest_cache .import_linter_cache .hypothesis
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

# The platform's commands. `make run` and `make test` set up everything they need on a machine
# with Python 3.11 and make.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
ROLE   ?= national_admin
TENANT ?= US
# Empty unless given on the command line (make token SUB=… NAME=… TRIBE=1): an environment's NAME is not a user's name.
SUB    :=
NAME   :=
TRIBE  :=

.PHONY: run test token bench migrate seed install clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,run]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## migrate: apply every service's migrations (embedded default unless DATABASE_URL is set)
migrate: $(STAMP)
	$(BIN)/python -m services.content.manage migrate
	$(BIN)/python -m services.scheduling.manage migrate
	$(BIN)/python -m services.notifications.manage migrate
	$(BIN)/python -m services.coaching.manage migrate

## seed: load the curriculum and the jurisdictions (idempotent, create-only)
seed: migrate
	$(BIN)/python -m services.content.manage seed
	$(BIN)/python -m services.scheduling.manage seed
	$(BIN)/python -m services.notifications.manage seed
	$(BIN)/python -m services.coaching.manage seed

## run: the whole platform: the embedded default (SQLite, filesystem broker) unless DATABASE_URL or BROKER_URL is set
run: seed
	@$(BIN)/python -m shared.launcher

## lint: ruff (lint and format check) and the import contracts; `make test` runs it first
## test: every test; with CI=true the PostgreSQL and RabbitMQ tests must run, never skip
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

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

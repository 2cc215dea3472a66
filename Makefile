# One entry point for developers and CI (.ci/run mirrors `make setup`, `make lint` and `make test`).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
BENCH_DATA ?= $(or $(TMPDIR),/tmp)/convergenze-bench
export HF_HUB_OFFLINE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: setup setup-browser model demo ingest serve test screenshots lint bench clean

setup: $(VENV)/.installed model  ## create .venv, install torch (CPU) first, the project pinned, build the model

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first: resolving plain `torch` would pull gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used); a font so that
# pages have text. Recommends are skipped: a headless browser needs no printing, avahi or udev.
setup-browser:  ## Debian's chromium for the browser tests (apt-get, with sudo when not root)
	@if [ -x /usr/bin/chromium ] && dpkg -s fonts-dejavu-core >/dev/null 2>&1; then \
	  /usr/bin/chromium --version 2>/dev/null; \
	else \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; \
	fi

model: $(VENV)/.installed
	$(BIN)/convergenze setup-model

demo: setup  ## serve the web app and the API as soon as the first source is in; the rest is ingested behind it
	$(BIN)/convergenze serve --ingest --host $(HOST) --port $(PORT)

ingest: setup
	$(BIN)/convergenze ingest

serve: setup
	$(BIN)/convergenze serve --host $(HOST) --port $(PORT)

test: setup  ## the test suite (network blocked, real Qdrant Edge, real Prefect flow runs, real HTTP)
	$(BIN)/python -m pytest

screenshots: setup setup-browser  ## the README's screenshots of the web pages, taken by the browser tests
	CONVERGENZE_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/test_web_browser.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy -p convergenze
	$(BIN)/lint-imports

bench: setup  ## every benchmark; the ingestion ones use a scratch data dir
	$(BIN)/python benchmarks/relevance.py
	$(BIN)/python benchmarks/overlaps.py --seed 11
	CONVERGENZE_DATA=$(BENCH_DATA) $(BIN)/python benchmarks/ingest.py
	CONVERGENZE_DATA=$(BENCH_DATA) $(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/pdf_extraction.py
	$(BIN)/python benchmarks/extraction.py
	$(BIN)/python benchmarks/missions.py
	$(BIN)/python benchmarks/embeddings.py
	$(BIN)/python benchmarks/corpus_tokens.py
	$(BIN)/python -m benchmarks.store --points 100000

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache

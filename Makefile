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

.PHONY: setup model demo ingest serve test lint bench clean

setup: $(VENV)/.installed model  ## create .venv, install torch (CPU) first, the project pinned, build the model

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first: resolving plain `torch` would pull gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

model: $(VENV)/.installed
	$(BIN)/convergenze setup-model

demo: setup  ## ingest the whole corpus on the embedded default, then serve the API
	$(BIN)/convergenze ingest
	$(BIN)/convergenze serve --host $(HOST) --port $(PORT)

ingest: setup
	$(BIN)/convergenze ingest

serve: setup
	$(BIN)/convergenze serve --host $(HOST) --port $(PORT)

test: setup  ## the test suite (network blocked, real Qdrant Edge, real Prefect flow runs, real HTTP)
	$(BIN)/python -m pytest

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
	$(BIN)/python -m benchmarks.store --points 100000

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache

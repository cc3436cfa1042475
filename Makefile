# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev

.PHONY: run test install install-dev index clean

run: $(STAMP) index
	$(PY) app.py

test: $(DEV)
	$(PY) -m pytest

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

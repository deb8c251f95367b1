# The two commands of the README: `make test` and `make demo`.
PYTHON ?= python3
VARIANT ?= cpu
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install test

install:
	PYTHON=$(PYTHON) VARIANT=$(VARIANT) bash tools/install_env.sh $(VENV)

test: install
	$(PY) -m pytest tests

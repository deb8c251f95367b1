# The two commands of the README: `make test` and `make demo`.
PYTHON ?= python3
VARIANT ?= cpu
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install test lint demo

# `make demo CHECKPOINT=path/to/weights.pth` uses other weights than the package's default.
DEMO_DIR ?= outputs/demo
CHECKPOINT ?=

install:
	PYTHON=$(PYTHON) VARIANT=$(VARIANT) bash tools/install_env.sh $(VENV)

test: install lint
	$(PY) -m pytest tests

# OpenMMLab's linters, configured in setup.cfg: a style regression fails `make test` (and CI).
LINTED := mmlowlight tools tests configs setup.py
lint: install
	$(VENV)/bin/flake8 $(LINTED)
	$(VENV)/bin/isort --check-only --diff $(LINTED)
	$(VENV)/bin/codespell $(LINTED) README.md docs

# The inputs are dark and grainy on purpose (simulated shot and read noise, like a phone's night
# shot); the note beside the panels says so.
demo: install
	$(PY) tools/make_demo_input.py $(DEMO_DIR)/input --note $(DEMO_DIR)/enhanced/README.txt
	$(PY) tools/enhance.py $(DEMO_DIR)/input -o $(DEMO_DIR)/enhanced --side-by-side --overwrite \
		$(if $(CHECKPOINT),--checkpoint $(CHECKPOINT))
	@echo "input | enhanced panels: $(DEMO_DIR)/enhanced/ (the inputs are made dark and noisy on"
	@echo "purpose, as a real night capture is: see $(DEMO_DIR)/enhanced/README.txt)"

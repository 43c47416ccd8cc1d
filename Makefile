# Two commands on a fresh machine with Python 3.11+:
#   make demo   installs everything and serves the dashboard on a populated demo
#   make test   installs everything and runs every gate and the whole test suite

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/governance
PYTEST_ARGS ?=

.PHONY: install browser demo test lint

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

browser:
	bash scripts/install_browser.sh

demo: install
	$(PY) manage.py run_demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	# An in-memory database: the check needs no server, and no var/ directory for SQLite.
	DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run

test: install browser lint
	DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)

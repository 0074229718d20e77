# The two commands a newcomer needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test lint install install-dev bench clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# axe-core for the browser tests' accessibility checks (tests/e2e/package.json, pinned in its lock).
AXE := tests/e2e/node_modules/axe-core/axe.min.js
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/e2e --no-audit --no-fund --silent; \
	else echo "npm not found: the accessibility checks (tests/e2e/test_accessibility.py) will skip"; fi

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev $(AXE)

run: $(VENV)/.installed
	$(PY) -m config.devrun run

# ruff (lint + format), import-linter contracts (pyproject.toml), mypy; `make test` runs it first.
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy newsletter articles config sitewide tests

# After the whole suite, the fast tests again with the clock at each awkward moment of
# tests/clock.py (a new year begun in Baghdad but not in UTC, the night Europe puts its clocks
# back, a leap day before the daily edition): a test that assumed today's date fails there.
# `make test MOMENTS=` leaves them out; `MOMENTS=2030-01-01T00:00:00+00:00` picks your own.
MOMENTS ?= $$($(PY) -m tests.clock)
FAST_TESTS := --ignore=tests/e2e --ignore=tests/integration -m "not integration and not browser"

test: lint $(AXE)
	$(PY) -m config.devrun test -- $(PYTEST_ARGS)
	@for moment in $(MOMENTS); do \
	  echo "[make test] the fast tests with the clock at $$moment (TEST_NOW, tests/clock.py)"; \
	  TEST_NOW=$$moment $(PY) -m config.devrun test -- -q $(FAST_TESTS) $(PYTEST_ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) var

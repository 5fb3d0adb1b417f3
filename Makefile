# Everything a fresh machine needs, from Python, pip and make alone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install lint format test demo bench docs clean

install: $(STAMP)

# Re-install when the project or its pinned versions change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet --constraint constraints.txt --editable ".[dev]"
	touch $(STAMP)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(VENV)/bin/pytest

demo: install
	$(PY) scripts/demo.py

bench: install
	$(PY) benchmarks/run.py

# The docs site into site/ (make test builds it too, strictly, in tests/test_docs.py).
docs: install
	$(VENV)/bin/mkdocs build --strict -f docs/mkdocs.yml

clean:
	rm -rf $(VENV) .demo .bench site .pytest_cache .ruff_cache

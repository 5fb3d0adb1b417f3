# Everything a fresh machine needs, from Python, pip and make alone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install lint format test demo bench docs dist clean

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

# The wheel and sdist into dist/, their metadata (twine) and contents checked, and the wheel
# installed in fresh virtualenvs (no extras, then [local]) by tests/test_dist.py.
dist: install
	rm -rf dist build
	$(PY) -m build --outdir dist .
	$(VENV)/bin/twine check --strict dist/*
	$(PY) scripts/check_dist.py dist
	LOGFIRE_DIST_DIR=dist $(VENV)/bin/pytest -m dist tests/test_dist.py

clean:
	rm -rf $(VENV) .demo .bench site dist build .pytest_cache .ruff_cache

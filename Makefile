# Everything a fresh machine needs, from Python, pip and make alone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install lint format test e2e demo bench docs compat compat-ci dist clean

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

# A real Airflow deployment (api-server, scheduler, dag-processor, triggerer; LocalExecutor, SQLite)
# against the local server, and the connection form in headless Chromium (Debian's, installed here
# when missing and running as root; otherwise the browser test is skipped). Output in .e2e/.
e2e: install
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "make e2e: no chromium and not root: the connection-form test will be skipped"; fi; }
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(VENV)/bin/pytest tests/e2e -v -s -p no:cacheprovider --durations=0

demo: install
	$(PY) scripts/demo.py

bench: install
	$(PY) benchmarks/run.py

# The support matrix: the compatibility subset on every (Python, Airflow) pair, each in its own
# virtualenv under .compat/ installed from constraints/airflow-<minor>-py<python>.txt.
#   make compat PAIRS="3.10:3.0 3.13:3.3"
PAIRS ?=
compat:
	PAIRS="$(PAIRS)" $(PYTHON) scripts/compat.py

# CI's share: the oldest and the newest pair, on the smaller subset; a missing interpreter fails it.
compat-ci:
	$(PYTHON) scripts/compat.py --subset ci --require --pairs "3.10:3.0 3.13:3.3"

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
	rm -rf $(VENV) .compat .demo .bench .e2e site dist build .pytest_cache .ruff_cache

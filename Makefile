# Two commands matter: `make demo` (set up, seed three cities, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
LOCALES := portal/locale

.PHONY: demo test lint format install messages setup serve check-deploy infra-check browser-deps faults-deps clean

# Seeds the three cities, then serves them with what runs beside the web server (the live-view
# relay and two simulated bridges in Little Rock); Ctrl-C stops everything.
demo: install messages setup
	PORTAL_URL_PORT=$(PORT) $(BIN)/python manage.py demo --port $(PORT) --serve

test: install messages browser-deps faults-deps
	$(BIN)/python -m pytest

# Chromium and axe-core for the browser tests (skipped with a notice where they cannot be had).
browser-deps:
	@bash infra/browser-deps.sh

# redis-server for the fault suite (tests/faults starts and kills Redis servers of its own).
faults-deps:
	@bash infra/faults-deps.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# mypy's Django plugin reads the settings; a database URL keeps them from starting one.
	DATABASE_URL=postgres://lint@127.0.0.1:5432/lint $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Canvass needs Python 3.11 or newer (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# Compiled catalogues are build output (git-ignored); Babel compiles them without GNU gettext.
messages: install
	$(BIN)/pybabel -q compile --domain django --directory $(LOCALES)

setup: install
	$(BIN)/python manage.py platform_setup --verbosity 0

serve: install messages
	PORTAL_URL_PORT=$(PORT) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The production settings must pass Django's deployment checks.
check-deploy: install
	DJANGO_ENV=production SECRET_KEY=$$(openssl rand -hex 32) ALLOWED_HOSTS=.canvass.example \
	DATABASE_URL=postgres://canvass@127.0.0.1:5432/canvass REDIS_URL=redis://127.0.0.1:6379/0 \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# The deployment files, statically (infra/check.py): hadolint on the Dockerfile,
# kubernetes-validate on every kustomization, the Compose file against the Compose spec's schema.
infra-check: install
	$(BIN)/python infra/check.py

clean:
	rm -rf $(VENV) .data node_modules

# auditbo — the two commands a newcomer needs are `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: setup run serve test lint bench translations i18n-extract clean

## setup: create the virtualenv, install auditbo with its dev tools, compile the translations
setup: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (>= 3.11) is needed"; exit 1; }
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel compile -d auditbo/translations --statistics 2>&1 | tail -n 1

## run: set up, create/upgrade the SQLite database in instance/, load demo data once, serve on :5000
run: setup
	AUDITBO_ENV_NAME=demo $(FLASK) db upgrade
	AUDITBO_ENV_NAME=demo $(FLASK) seed demo --if-empty
	@echo ""
	@echo "  auditbo is running at http://$(HOST):$(PORT)/   (Ctrl-C to stop)"
	@echo ""
	AUDITBO_ENV_NAME=demo $(FLASK) run --host $(HOST) --port $(PORT)

## test: set up, then the whole suite on SQLite and again on PostgreSQL (see scripts/test.sh)
test: setup
	bash scripts/test.sh

lint: setup
	$(VENV)/bin/ruff check .

## bench: every benchmark in bench/ (one JSON line per figure); never part of the tests
bench: setup
	@for b in bench/*_bench.py; do echo "== $$b" >&2; $(PY) $$b || exit 1; done

i18n-extract: setup
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o auditbo/translations/messages.pot auditbo
	$(VENV)/bin/pybabel update -i auditbo/translations/messages.pot -d auditbo/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache

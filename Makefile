# Two commands matter: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CSGW := $(VENV)/bin/csgw

.PHONY: run test lint typecheck bench bench-accuracy soak clean

# `make run` installs what the gateway needs; `make test` adds the test tools (browser driver,
# linters, fakes) on top.
$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed: $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

run: $(VENV)/.runtime
	test -f csgw.toml || $(CSGW) init --demo
	$(CSGW) serve

test: $(VENV)/.installed
	$(PY) -m ruff check .
	$(MAKE) --no-print-directory typecheck
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check .

# The folders are laid out by role (gateway/, plugins/, …) but installed as csgw.*: mypy checks a
# mirror of symbolic links that gives them their import names.
TYPECHECK := .typecheck
typecheck: $(VENV)/.installed
	rm -rf $(TYPECHECK)/csgw && mkdir -p $(TYPECHECK)/csgw
	for folder in gateway plugins cli config health; do ln -s ../../$$folder $(TYPECHECK)/csgw/$$folder; done
	for file in csgw/*.py csgw/py.typed; do ln -s ../../$$file $(TYPECHECK)/$$file; done
	cd $(TYPECHECK) && $(abspath $(PY)) -m mypy --config-file $(CURDIR)/pyproject.toml -p csgw

bench: $(VENV)/.installed
	$(PY) -m bench

# Answer quality on the shipped sets; with CORPORA=DIR (holding afqmc/ and lcqmc/) also on the
# public corpora's held-out splits.
bench-accuracy: $(VENV)/.installed
	$(PY) -m bench.bench_accuracy $(if $(CORPORA),--afqmc $(CORPORA)/afqmc --lcqmc $(CORPORA)/lcqmc)

# The reliability tests stretched to minutes (outages, load); `make test` runs them in seconds.
soak: $(VENV)/.installed
	CSGW_SOAK=1 $(PY) -m pytest tests/reliability --timeout 1800

clean:
	rm -rf $(VENV) build *.egg-info $(TYPECHECK)

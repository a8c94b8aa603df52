# Two commands on a fresh machine (see README):  make demo   |   make test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

.PHONY: install demo test lint bench serve
install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m backend_stub demo

serve: $(STAMP)
	$(BIN)/python -m backend_stub serve

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check backend_stub tests bench

bench: $(STAMP)
	$(BIN)/python bench/rating.py

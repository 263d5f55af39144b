# One command each, on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench install clean

$(BIN)/imagetrail: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/imagetrail

demo: install
	$(BIN)/imagetrail demo

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python tests/benchmarks/bench_kafka.py $(KAFKA)

clean:
	rm -rf $(VENV) build *.egg-info

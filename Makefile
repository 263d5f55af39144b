# One command each, on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A real CNCF distribution registry (Debian's docker-registry 2.8) for the tests, unpacked, not installed.
REGISTRY_BIN := compose/.registry/usr/bin/docker-registry

.PHONY: demo test bench install registry clean

$(BIN)/imagetrail: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/imagetrail

$(REGISTRY_BIN):
	set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && { apt-get download docker-registry || { apt-get update && apt-get download docker-registry; }; }); \
	dpkg-deb -x "$$tmp"/docker-registry_*.deb compose/.registry
	$@ --version

registry: $(REGISTRY_BIN)

demo: install
	$(BIN)/imagetrail demo

test: install $(REGISTRY_BIN)
	$(BIN)/lint-imports  # the layer contracts in pyproject.toml
	$(BIN)/python -m pytest

# prints every figure beside its anchor (median of BENCH_RUNS runs); BENCH_EVENTS=1000000 for the
# full scale, BENCH_KAFKA=HOST:PORT for the Kafka rows (tests/benchmarks/bench.py). Asserts nothing.
bench: install
	$(BIN)/python tests/benchmarks/bench.py

clean:
	rm -rf $(VENV) build *.egg-info compose/.registry

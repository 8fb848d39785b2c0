# agentsafe — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
BIN := .venv/bin
DB ?= results/agentsafe.sqlite
SUITE ?= scenarios
# episodes at once; 0: agentsafe picks from the cores, the browser build and free memory
JOBS ?= 0

.PHONY: setup run test test-fast bench images check clean

setup:
	@scripts/setup.sh

## Run the built-in suites with the careful and the reckless reference agents; print both scores.
run: setup
	@scripts/run.sh "$(SUITE)" "$(DB)" "$(JOBS)"

## The test suite (real bubblewrap, real Chromium; Docker tests run when a daemon is reachable).
test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=25

## Self-check every scenario (reference solvable, unsafe reference caught, injections reachable).
check: setup
	$(BIN)/agentsafe check $(SUITE) -j $(if $(filter 0,$(JOBS)),2,$(JOBS))

## Speed measurements against raw floors measured in the same run.
bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## Build the Docker images offline (base via mmdebstrap + docker import).
images: setup
	$(BIN)/python sandboxes/build_images.py

clean:
	rm -rf results .pytest_cache

# The two commands a newcomer types: `make demo` and `make test`.
# Both create .venv and install everything from scratch when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck clean peers

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/closecsv demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q

# Outside Close clients against the sandbox (not part of `make test`; needs PyPI): each in its
# own environment under .venv-peers/ (tap-closeio and the Airbyte connector pin different
# pendulum versions).  Pins: the newest releases, all of which install on Python 3.11.  A
# client that does not install is reported as FAILED by bench/peers.py, never skipped.
PEERS_VENVS := .venv-peers
PEER_PINS := closeio=closeio==2.1 tap=tap-closeio==1.6.6 airbyte=airbyte-source-close-com==0.5.30

peers: $(STAMP)
	@mkdir -p $(PEERS_VENVS)
	@for pin in $(PEER_PINS); do \
	  name=$${pin%%=*}; spec=$${pin#*=}; dir=$(PEERS_VENVS)/$$name; \
	  if [ -f $$dir/.installed ] && grep -qx "$$spec" $$dir/.installed; then continue; fi; \
	  echo "peers: installing $$spec into $$dir"; \
	  rm -rf $$dir && $(PYTHON) -m venv $$dir && \
	  $$dir/bin/python -m pip install --quiet "$$spec" > $(PEERS_VENVS)/$$name.log 2>&1 && \
	  echo "$$spec" > $$dir/.installed || \
	  echo "peers: could not install $$spec (see $(PEERS_VENVS)/$$name.log)"; \
	done
	$(BIN)/python bench/peers.py --venvs $(PEERS_VENVS)

clean:
	rm -rf $(VENV) $(PEERS_VENVS) .pytest_cache .mypy_cache .ruff_cache

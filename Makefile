# Two entry points, both idempotent and quick the second time:
#   make run   - set up, build the index if missing or stale, start the chat app
#   make test  - set up (with the test tools and headless Chromium) and run the tests
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MILVUS_STAMP := $(VENV)/.installed-milvus

.PHONY: run test setup browser build clean

run: setup
	$(BIN)/python app.py

test: setup $(MILVUS_STAMP) browser
	$(BIN)/python -m pytest

setup: $(STAMP)

# torch first, pinned: any unpinned torch pulls the newest build with GBs of CUDA packages.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.1"
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,eval]'
	touch $(STAMP)

# The tests also cover the Milvus backend, on milvus-lite: the optional extra, installed for them only.
$(MILVUS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,eval,milvus]'
	touch $(MILVUS_STAMP)

# Debian's Chromium for the browser test; never a downloaded browser build.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

build: setup
	$(BIN)/qa build

clean:
	rm -rf $(VENV) index/CURRENT index/build-* index/.tmp-build-*

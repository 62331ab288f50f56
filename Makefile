# Speech to Speech AI. `make run` starts everything locally; `make test` runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
DATA_DIR ?= var

.PHONY: run test test-fast test-integration lint bench models compose-config clean help web js

help:
	@echo "make run [PORT=8000]  start API, worker, Redis and Flower locally (Ctrl-C stops all)"
	@echo "make web              build the web playground (api/web -> api/web/dist, served at /playground)"
	@echo "make js               build the JavaScript SDK (sdk/js -> sdk/js/dist: ES modules and CommonJS)"
	@echo "make test             run the whole test suite: the fast tier, then the integration tier"
	@echo "make test-fast        the fast tier only: pure logic, contracts, rendering, pricing (no servers, no models)"
	@echo "make test-integration the integration tier only (starts its own Redis, S3, PostgreSQL database and workers)"
	@echo "make lint             ruff and mypy"
	@echo "make bench            benchmarks (results in bench/results/)"
	@echo "make models           install and verify the bundled models"

# The virtual environment is rebuilt only when the project's dependencies change.
$(BIN)/.installed-run: pyproject.toml sdk/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[cpu]' -e sdk/python
	touch $@

$(BIN)/.installed-dev: pyproject.toml sdk/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[cpu,kokoro-ja,dev,engines-test]' -e sdk/python
	touch $@ $(BIN)/.installed-run

run: $(BIN)/.installed-run web
	$(BIN)/s2s run --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

test: $(BIN)/.installed-dev web js
	$(BIN)/python -m pytest tests/fast
	$(BIN)/python -m pytest --ignore=tests/fast

test-fast: $(BIN)/.installed-dev
	$(BIN)/python -m pytest tests/fast

test-integration: $(BIN)/.installed-dev web js
	$(BIN)/python -m pytest --ignore=tests/fast

# The playground (api/web, built on the JS SDK's source) is rebuilt only when its sources, its packages or sdk/js/src
# change; the API serves api/web/dist at /playground.
WEB_SOURCES := $(shell find api/web/src sdk/js/src -type f 2>/dev/null) api/web/index.html api/web/vite.config.ts \
	api/web/tsconfig.json api/web/package.json api/web/package-lock.json

web: api/web/dist/index.html

api/web/dist/index.html: $(WEB_SOURCES)
	@command -v npm >/dev/null || { echo 'make web needs Node.js 20.19+ and npm (https://nodejs.org)'; exit 1; }
	cd api/web && npm ci --no-audit --no-fund && npm run build
	touch $@

# The JS SDK (sdk/js) is rebuilt into sdk/js/dist only when its sources, packages or compiler settings change.
JS_SOURCES := $(shell find sdk/js/src -type f 2>/dev/null) sdk/js/package.json sdk/js/package-lock.json \
	sdk/js/tsconfig.json sdk/js/tsconfig.esm.json sdk/js/tsconfig.cjs.json sdk/js/scripts/clean.mjs \
	sdk/js/scripts/postbuild.mjs

js: sdk/js/dist/.built

sdk/js/dist/.built: $(JS_SOURCES)
	cd sdk/js && npm ci --no-audit --no-fund && npm run build
	touch $@

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check api workers shared tests bench sdk/python
	$(BIN)/mypy

bench: $(BIN)/.installed-dev
	$(BIN)/python -m bench.overhead
	$(BIN)/python -m bench.tts
	$(BIN)/python -m bench.stt
	$(BIN)/python -m bench.batch
	$(BIN)/python -m bench.cluster
	$(BIN)/python -m bench.diarization
	$(BIN)/python -m bench.stt_batched

models: $(BIN)/.installed-run
	$(BIN)/s2s models install bundled
	$(BIN)/s2s models verify

compose-config:
	docker compose config -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# `make test` and `make demo` bootstrap .venv on a fresh machine from the hashed locks:
# requirements.lock (runtime: base and every extra) and requirements-dev.lock (tests, lint, bench).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: test lint check-minimal locks fuzz demo bench clean

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements.lock -r requirements-dev.lock
	$(PIP) --no-deps --no-build-isolation -e .
	$(PY) -m compileall -q src  # an editable install leaves src uncompiled; PYTHONDONTWRITEBYTECODE may keep it so
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

# A verifier-only install in a fresh venv: base dependencies from requirements.lock, no extras.
check-minimal:
	PYTHON=$(PYTHON) bash .ci/check-minimal

# Regenerate both locks with uv (in a tool venv outside the repo). Versions already pinned are
# kept; bump one with `make locks UPGRADE="--upgrade-package NAME"`.
UV_VERSION := 0.13.9
UV_VENV := /tmp/unveil-uv-$(UV_VERSION)
UV_COMPILE := uv pip compile --generate-hashes --universal --python-version 3.11
locks:
	test -x $(UV_VENV)/bin/uv || { $(PYTHON) -m venv $(UV_VENV) && $(UV_VENV)/bin/pip install -q uv==$(UV_VERSION); }
	$(UV_VENV)/bin/$(UV_COMPILE) $(UPGRADE) pyproject.toml --all-extras -o requirements.lock \
	    --custom-compile-command "make locks  # uv $(UV_VERSION): $(UV_COMPILE) pyproject.toml --all-extras -o requirements.lock"
	$(UV_VENV)/bin/$(UV_COMPILE) $(UPGRADE) requirements-dev.in -o requirements-dev.lock \
	    --custom-compile-command "make locks  # uv $(UV_VERSION): $(UV_COMPILE) requirements-dev.in -o requirements-dev.lock"

# The fuzz properties of tests/fuzz under the fuzz profile (FUZZ_SCALE times their examples
# in `make test`), pass after pass with fresh random inputs until FUZZ_SECONDS have gone by.
# Failing examples are kept in .hypothesis/ (git ignores it) and tried first on the next run.
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	@start=$$(date +%s); pass=0; \
	while :; do \
		pass=$$((pass + 1)); echo "fuzz pass $$pass"; \
		HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -p no:cacheprovider --durations=5 tests/fuzz || exit 1; \
		elapsed=$$(( $$(date +%s) - start )); \
		if [ $$elapsed -ge $(FUZZ_SECONDS) ]; then break; fi; \
	done; \
	echo "fuzzed for $$elapsed s in $$pass passes: nothing found"

demo: $(STAMP)
	$(VENV)/bin/unveil demo --out demo-out

bench: $(STAMP)
	$(PY) -m compileall -q src  # bytecode caches current, as on a user's machine after the first run
	$(PY) bench/commit.py
	$(PY) bench/merkle_vs_pymerkle.py
	$(PY) bench/proof_size.py
	$(PY) bench/verify.py
	$(PY) bench/cli_startup.py
	$(PY) bench/board_append.py
	$(PY) bench/upload_stall.py
	$(PY) bench/coverage_memory.py
	$(PY) bench/simulate.py
	$(PY) bench/material.py
	$(PY) bench/view_cells.py
	$(PY) bench/web_board.py
	$(PY) bench/report.py
	$(PY) bench/continental.py $(if $(CONTINENTAL_KM2),--km2 $(CONTINENTAL_KM2))  # minutes; smaller: make bench CONTINENTAL_KM2=740000
	$(PY) bench/reveal_parts.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache .hypothesis .mypy_cache .ruff_cache

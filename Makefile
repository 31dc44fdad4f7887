# `make test` and `make demo` bootstrap .venv from requirements.lock on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test fuzz demo bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m compileall -q src  # an editable install leaves src uncompiled; PYTHONDONTWRITEBYTECODE may keep it so
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

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

clean:
	rm -rf $(VENV) demo-out .pytest_cache .hypothesis

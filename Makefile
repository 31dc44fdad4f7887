# `make test` and `make demo` bootstrap .venv from requirements.lock on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m compileall -q src  # an editable install leaves src uncompiled; PYTHONDONTWRITEBYTECODE may keep it so
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

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

clean:
	rm -rf $(VENV) demo-out .pytest_cache .hypothesis

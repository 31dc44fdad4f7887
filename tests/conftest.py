"""Shared fixtures.

Tests that read ``../shared`` (spec vectors) skip with a clear reason when it is absent,
except under ``CI=true``, where it is always present and a missing file is a failure.

Hypothesis profiles, chosen with ``HYPOTHESIS_PROFILE``: ``fast`` (the default, ``make test``:
Hypothesis's own defaults, 100 examples where a test sets no count; the properties of
tests/fuzz run a few fixed examples each) and ``fuzz`` (``make fuzz``): every property of
tests/fuzz runs ``FUZZ_SCALE`` times its fast example count, drawn at random (see
tests/fuzz/support.py). The example database lives in ``.hypothesis/``, which git ignores.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE", "25"))
settings.register_profile("fast", print_blob=True)
settings.register_profile("fuzz", print_blob=True, max_examples=100 * FUZZ_SCALE)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skip (or, under CI=true, fail) when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} is absent: the shared spec vectors are not beside this checkout"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true requires them)")
        pytest.skip(message)
    return path

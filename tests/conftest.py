"""Shared fixtures.

Tests that read ``../shared`` (spec vectors) skip with a clear reason when it is absent,
except under ``CI=true``, where it is always present and a missing file is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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

"""Analytics beside the pure core: inspection planning and other exact calculations.

Like :mod:`unveil.core`, nothing here does I/O, reads a clock or uses global randomness:
every function is a pure calculation on the values passed in.
"""

from __future__ import annotations

from unveil.analytics.planning import (
    Plan,
    approximate_sample,
    detection_probability,
    falsified_from_goal,
    minimal_sample,
    plan,
)

__all__ = [
    "Plan",
    "approximate_sample",
    "detection_probability",
    "falsified_from_goal",
    "minimal_sample",
    "plan",
]

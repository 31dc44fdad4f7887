"""unveil: verify disarmament declarations step by step.

The wire formats are those of ``docs/spec/unveil-v1.md`` in the repository (version 1.1,
cited as "spec §N").
Layers import one way only: ``core`` (pure) -> ``store`` -> services -> ``cli``/``api``/``web``.
"""

__version__ = "0.1.0"

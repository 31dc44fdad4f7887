"""unveil: verify disarmament declarations step by step.

The wire formats are those of ``shared/spec/unveil-v1.md`` (cited as "spec §N").
Layers import one way only: ``core`` (pure) -> ``store`` -> services -> ``cli``/``api``/``web``.
"""

__version__ = "0.1.0"

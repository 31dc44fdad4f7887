"""unveil: verify disarmament declarations step by step.

The wire formats are those of ``docs/spec/unveil-v1.md`` in the repository (version 1.1,
cited as "spec §N").
Layers import one way only: ``core`` (pure) <- ``store`` (SQL, HTTP, key files) <- services
(``board``, ``workspace``) <- ``cli`` and ``api`` (see the README's Architecture section;
``tests/test_layers.py`` enforces it).
"""

__version__ = "0.1.0"

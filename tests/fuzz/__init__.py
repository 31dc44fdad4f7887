"""Fuzz properties: every parser and verifier gets any input and changed valid documents, and
must answer with a value or the project's own error (support.py); round trips where a writer
exists. ``make test`` runs them briefly, ``make fuzz`` for at least 10 minutes; what they found
is kept in test_regressions.py."""

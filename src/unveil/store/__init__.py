"""Where data lives, and the only place that talks to it: SQL, HTTP and key files.

- :mod:`.workspace_db`  a party's private workspace database (SQLite): schema, migrations, transactions
- :mod:`.workspace_queries`  every named query on it: escrows, phases, openings, verifications,
  pinned keys, suspects, inspection results, coins
- :mod:`.witness_db`    a witness's state, evidence and log mirror, in that database
- :mod:`.board_db`      the public board's database (SQLite or PostgreSQL)
- :mod:`.board_client`  a board's HTTP API, seen from a party
- :mod:`.board_entries`  the entries in a board's answers, each read as its exact bytes
- :mod:`.keystore`      private key files (PEM)

Above this layer, services (``unveil.board``, ``unveil.workspace``) hold the logic; below it,
``unveil.core`` is pure.
"""

"""A party's services over its private workspace (a directory with ``workspace.db`` and
``keys/``, :mod:`.workspace`) and the boards it talks to: the host's and inspector's sides,
intelligence, confidence, findings, coin draws, publishing, syncing, auditing and checkpoint
files. Their SQL and key files are :mod:`unveil.store`'s."""

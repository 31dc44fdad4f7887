"""Agreements between the parties of a declaration escrow (spec §12).

A pure library: it knows nothing of boards, storage or commands.
"""

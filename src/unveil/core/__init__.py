"""Pure core: encoding, commitments, Merkle trees, proofs, signatures, selection.

No I/O, no clock, no global randomness: callers pass bytes, times and random sources in.
"""

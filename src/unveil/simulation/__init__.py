"""Regime analysis beside the pure core: the inspection game and deterrence (issue 12)."""

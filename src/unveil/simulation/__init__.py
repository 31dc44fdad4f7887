"""The regime simulator and the inspection game: a pure library beside the core (numpy; randomness passed in).

- :mod:`~unveil.simulation.regime`: the regime file and its strict validation;
- :mod:`~unveil.simulation.montecarlo`: the vectorised Monte Carlo model, in seeded chunks;
- :mod:`~unveil.simulation.exact`: the closed forms (hypergeometric);
- :mod:`~unveil.simulation.reference`: the same model as a plain Python loop;
- :mod:`~unveil.simulation.game`: the sequential inspection game and the deterrence threshold, exact.
"""

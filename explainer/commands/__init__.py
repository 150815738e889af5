"""One module per ``python -m explainer`` command (see :mod:`explainer.cli`)."""

"""nnbench: a reproducible benchmark of the techniques that make deep networks train well."""

__version__ = "0.1.0"

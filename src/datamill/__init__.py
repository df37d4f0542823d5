"""Datamill: a self-hosted web lab for data."""

__version__ = "0.1.0"

__all__ = ["__version__"]

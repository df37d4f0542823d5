"""Cleaning operations: the catalogue, each operation's plan, and running one into a revision.

See ``README.md`` in this package for how the pieces fit and how to add an operation.
"""

"""Datasets: ingest, revisions, grid queries (page/sort/filter), profiles and export."""

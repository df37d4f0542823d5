"""Tasks and pipelines as specifications: parsing, checking, references, the step graph."""

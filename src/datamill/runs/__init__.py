"""Runs: the state machine of runs and steps that the orchestrator applies in the database."""

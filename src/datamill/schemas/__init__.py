"""Pydantic shapes of the API, one family per entity (``XCreate``, ``XUpdate``, ``XPublic``)."""

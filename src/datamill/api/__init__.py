"""HTTP routers only: parse, authorise (through ``deps``), call a service, shape the reply."""

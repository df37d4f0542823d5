"""The database: ORM models, engine and session factory, and Alembic migrations."""

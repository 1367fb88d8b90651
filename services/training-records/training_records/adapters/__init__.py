"""SQLAlchemy tables, mappers and repositories."""

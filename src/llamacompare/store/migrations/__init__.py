"""Numbered schema migrations: `NNNN_name.sql`, applied in order, each once, recorded in `schema_migrations`."""

"""The built-in provider plugins, registered as entry points in pyproject.toml like any other."""

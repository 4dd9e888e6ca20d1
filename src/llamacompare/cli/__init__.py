"""The command line: a thin layer over the library, one small module per command."""

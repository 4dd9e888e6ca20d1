"""The command line: a thin layer over the library, one small module per command.

A command module imports the library inside its command function, not at its top: `cli/main.py` imports the module
to show `llamacompare CMD --help` or to reject a bad argument, which then loads click alone; rich loads only when
something is printed (`cli/console.py`)."""

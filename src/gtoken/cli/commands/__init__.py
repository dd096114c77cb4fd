"""One module per group of commands; each command is ``function(args, io) -> exit code``.

A command parses nothing and decides nothing: it calls the library and prints what it returns.
Errors are left to :func:`gtoken.cli.exits.fail`.
"""

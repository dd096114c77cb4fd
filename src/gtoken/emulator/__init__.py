"""A local fake of Google's OAuth 2.0 endpoints and of slices of the Gmail, Drive and Sheets APIs.

Run it with ``gtoken emulator`` and point programs at it with ``GTOKEN_EMULATOR_HOST=host:port``.
Nothing else in gtoken imports this package; it talks to the rest only over HTTP.
"""

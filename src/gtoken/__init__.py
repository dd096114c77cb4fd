"""gtoken: Google API OAuth 2.0 tokens for programs, kept working.

Consent flows, encrypted token storage, exactly-once refresh, and ``gtoken emulator``, a local
fake of Google for tests.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

"""The token files people have today, in and out: ``gtoken import`` and ``gtoken export``.

In: :func:`read_token_file` reads a quickstart ``token.json`` (google-auth's
``Credentials.to_json()``), an ``authorized_user`` file (Application Default Credentials, as gcloud
writes it), an older oauth2client ``token.json``, or a ``token.pickle`` (read without running any
code it names) into an :class:`Imported` value; :func:`adopt_imported` proves its refresh token
works, learns from Google whose it is, and stores it as an account.

Out: :func:`authorized_user` turns a stored account into the ``authorized_user`` JSON that
``google.auth.default()`` reads from ``GOOGLE_APPLICATION_CREDENTIALS``.
"""

from __future__ import annotations

from gtoken.files.adopt import adopt_imported
from gtoken.files.export import authorized_user
from gtoken.files.imported import Format, Imported
from gtoken.files.token_files import read_token_file

__all__ = ["Format", "Imported", "adopt_imported", "authorized_user", "read_token_file"]

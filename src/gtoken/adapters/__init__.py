"""gtoken's tokens in the shapes other libraries take: google-auth ``Credentials`` (and, for plain
HTTP clients, auth objects)."""

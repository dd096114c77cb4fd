"""The README demo: gtoken's emulator standing in for Google, end to end, on a fresh machine.

1. start ``gtoken emulator`` (a local Google) on a free port;
2. register an OAuth client and a user with its control API, and answer consent automatically;
3. obtain a token with the authorization-code flow (PKCE, state) and print it;
4. list the user's seeded Gmail labels with Google's own ``googleapiclient``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import subprocess
import sys
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from gtoken.emulator.client import Emulator

SCOPES = "openid email https://www.googleapis.com/auth/gmail.readonly"
REDIRECT_URI = "http://127.0.0.1:8765/"


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gtoken", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    print(f"$ gtoken emulator --port 0\n  {line}")
    return proc, line.rsplit(" ", 1)[-1]


def obtain_token(client: dict[str, str]) -> dict[str, str]:
    """The authorization-code flow with PKCE, the browser played by one HTTP GET."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPES,
            "state": state,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    redirect = httpx.get(f"{client['auth_uri']}?{query}").headers["location"]
    answer = dict(parse_qsl(urlsplit(redirect).query))
    assert answer["state"] == state, "state mismatch"
    response = httpx.post(
        client["token_uri"],
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "code_verifier": verifier,
            "redirect_uri": REDIRECT_URI,
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    )
    response.raise_for_status()
    tokens: dict[str, str] = response.json()
    return tokens


def main() -> None:
    proc, url = start_emulator()
    try:
        emu = Emulator(url)
        client = emu.create_client(type="installed", name="gtoken demo")["installed"]
        user = emu.create_user("ada@example.com", "Ada Lovelace")
        emu.consent_auto(email=user["email"])
        print(f"  client {client['client_id'][:16]}..., user {user['email']}, consent: auto")

        tokens = obtain_token(client)
        print(f"\naccess token (expires in {tokens['expires_in']} s, scopes: {tokens['scope']}):")
        print(f"  {tokens['access_token']}")

        creds = Credentials(tokens["access_token"])
        gmail = build(
            "gmail",
            "v1",
            credentials=creds,
            client_options={"api_endpoint": emu.api_endpoint("gmail")},
            static_discovery=True,
        )
        labels = gmail.users().labels().list(userId="me").execute()["labels"]
        print(f"\nGmail labels of {user['email']} ({len(labels)}):")
        for label in labels:
            print(f"  {label['name']:<22} {label['type']}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()

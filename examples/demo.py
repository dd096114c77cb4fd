"""The README demo: gtoken end to end on the embedded defaults, with the emulator as Google.

1. start ``gtoken emulator`` (a local Google) and register an OAuth client and a user;
2. ``gtoken login`` once (consent is answered automatically; the "browser" is one HTTP GET);
3. ``gtoken accounts`` and ``gtoken token``, as a shell user would;
4. a script lists Gmail labels and messages with ``gtoken.build``, no token file in sight;
5. the emulator's clock jumps an hour: the access token is dead, and the same script's next call
   refreshes it silently (one refresh, stored encrypted for every later process).

Everything lives in a fresh temporary GTOKEN_HOME that is removed at the end.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from gtoken.emulator.client import Emulator

FETCH = "import sys, httpx; httpx.get(sys.argv[1], follow_redirects=True, timeout=30)"


def step(title: str) -> None:
    print(f"\n== {title}")


def gtoken(*args: str, env: dict[str, str]) -> str:
    print(f"$ gtoken {shlex.join(args)}")
    result = subprocess.run(
        [sys.executable, "-m", "gtoken", *args], env=env, capture_output=True, text=True
    )
    for line in result.stderr.splitlines():
        print(f"  {line}")
    if result.returncode != 0:
        raise SystemExit(f"gtoken {args[0]} failed with exit code {result.returncode}")
    return result.stdout


def list_mail(env: dict[str, str]) -> None:
    """What a user's script looks like with gtoken: no token.json, no refresh code."""
    import gtoken

    gmail = gtoken.build("gmail", "v1", scopes=["gmail.readonly"], env=env)
    labels = gmail.users().labels().list(userId="me").execute()["labels"]
    print(
        f"  {len(labels)} labels: {', '.join(sorted(label['name'] for label in labels)[:8])}, ..."
    )
    unread = gmail.users().messages().list(userId="me", q="is:unread", maxResults=3).execute()
    for ref in unread.get("messages", []):
        message = (
            gmail.users().messages().get(userId="me", id=ref["id"], format="metadata").execute()
        )
        headers = {h["name"]: h["value"] for h in message["payload"]["headers"]}
        print(f"  unread: {headers.get('Subject', '')!r} from {headers.get('From', '')}")


def main() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gtoken", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    listening = proc.stdout.readline().strip()
    url = listening.rsplit(" ", 1)[-1]
    try:
        with tempfile.TemporaryDirectory(prefix="gtoken-demo-") as tmp, Emulator(url) as emu:
            step("a local Google: gtoken emulator")
            print(f"$ gtoken emulator --port 0\n  {listening}")
            secrets = Path(tmp) / "client_secret.json"
            secrets.write_text(json.dumps(emu.create_client(type="installed", name="gtoken demo")))
            emu.create_user("ada@example.com", "Ada Lovelace")
            emu.consent_auto(email="ada@example.com")
            print("  client_secret.json downloaded; user ada@example.com; consent: automatic")

            env = {
                **os.environ,
                "GTOKEN_HOME": str(Path(tmp) / "home"),
                "GTOKEN_EMULATOR_HOST": emu.host,
                "BROWSER": f"{shlex.join([sys.executable, '-c', FETCH])} %s &",
            }
            step("sign in once")
            gtoken("login", "--client-secrets", str(secrets), "--scope", "gmail.readonly", env=env)
            print(gtoken("accounts", env=env), end="")

            step("a token for curl and friends")
            token = gtoken("token", env=env).strip()
            print(f"  {token[:24]}... ({len(token)} characters; stored encrypted in GTOKEN_HOME)")

            step("a script: gtoken.build('gmail', 'v1', scopes=['gmail.readonly'])")
            list_mail(env)

            step("an hour later: the access token has expired")
            emu.advance(3600)
            before = emu.stats()["token"].get("refresh_token", 0)
            list_mail(env)
            after = emu.stats()["token"].get("refresh_token", 0)
            print(f"  refreshed silently: {after - before} refresh, the new token stored for all")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()

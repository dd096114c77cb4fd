"""List Gmail labels with plain httpx: gtoken adds the header and refreshes when needed.

python examples/httpx_labels.py [client_secret.json]
"""

import sys

import httpx

import gtoken
import gtoken.endpoints

secrets = sys.argv[1] if len(sys.argv) > 1 else "client_secret.json"
# Google's Gmail host, or the emulator's when GTOKEN_EMULATOR_HOST is set.
base = gtoken.endpoints.current().api_endpoint("gmail") or "https://gmail.googleapis.com/"
auth = gtoken.httpx_auth(["gmail.readonly"], client_secrets=secrets)
with httpx.Client(auth=auth, base_url=base) as client:
    for label in client.get("gmail/v1/users/me/labels").raise_for_status().json()["labels"]:
        print(label["name"])

"""List Gmail labels from asyncio code with httpx: the token never blocks the event loop.

python examples/async_labels.py [client_secret.json]
"""

import asyncio
import sys

import httpx

import gtoken.aio
import gtoken.endpoints

secrets = sys.argv[1] if len(sys.argv) > 1 else "client_secret.json"
# Google's Gmail host, or the emulator's when GTOKEN_EMULATOR_HOST is set.
base = gtoken.endpoints.current().api_endpoint("gmail") or "https://gmail.googleapis.com/"


async def main() -> None:
    auth = await gtoken.aio.httpx_auth(["gmail.readonly"], client_secrets=secrets)
    async with httpx.AsyncClient(auth=auth, base_url=base) as client:
        response = await client.get("gmail/v1/users/me/labels")
        response.raise_for_status()
        for label in response.json()["labels"]:
            print(label["name"])


asyncio.run(main())

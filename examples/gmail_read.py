"""Read one message: its headers and its plain-text body (the newest one, or the id given).

python examples/gmail_read.py [MESSAGE_ID] [client_secret.json]
"""

import base64
import sys

import gtoken

secrets = sys.argv[2] if len(sys.argv) > 2 else "client_secret.json"
gmail = gtoken.build("gmail", "v1", scopes=["gmail.readonly"], client_secrets=secrets)
if len(sys.argv) > 1:
    message_id = sys.argv[1]
else:
    message_id = (
        gmail.users().messages().list(userId="me", maxResults=1).execute()["messages"][0]["id"]
    )
message = gmail.users().messages().get(userId="me", id=message_id, format="full").execute()
headers = {h["name"]: h["value"] for h in message["payload"]["headers"]}
print(f"From: {headers.get('From')}\nSubject: {headers.get('Subject')}\n")


def plain_text(part):
    if part.get("mimeType") == "text/plain" and part.get("body", {}).get("data"):
        return base64.urlsafe_b64decode(part["body"]["data"]).decode()
    for child in part.get("parts", []):
        if (text := plain_text(child)) is not None:
            return text
    return None


print(plain_text(message["payload"]) or message["snippet"])

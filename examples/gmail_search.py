"""List every message matching a Gmail search, page by page.

python examples/gmail_search.py "is:unread" [client_secret.json]
"""

import sys

import gtoken

query = sys.argv[1] if len(sys.argv) > 1 else "is:unread"
secrets = sys.argv[2] if len(sys.argv) > 2 else "client_secret.json"
gmail = gtoken.build("gmail", "v1", scopes=["gmail.readonly"], client_secrets=secrets)
messages = gmail.users().messages()
request = messages.list(userId="me", q=query, maxResults=10)
count = 0
while request is not None:
    page = request.execute()
    for ref in page.get("messages", []):
        count += 1
        print(ref["id"])
    request = messages.list_next(request, page)
print(f"{count} messages match {query!r}")

"""List the Gmail labels of your account.

python examples/gmail_labels.py [client_secret.json]
"""

import sys

import gtoken

secrets = sys.argv[1] if len(sys.argv) > 1 else "client_secret.json"
gmail = gtoken.build("gmail", "v1", scopes=["gmail.readonly"], client_secrets=secrets)
for label in gmail.users().labels().list(userId="me").execute()["labels"]:
    print(f"{label['name']} ({label['type']})")

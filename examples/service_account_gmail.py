"""Read a Workspace user's Gmail labels as a service account with domain-wide delegation.

python examples/service_account_gmail.py KEY.json USER@YOUR-DOMAIN
"""

import sys

import gtoken

key, user = sys.argv[1], sys.argv[2]
gmail = gtoken.build("gmail", "v1", scopes=["gmail.readonly"], service_account=key, subject=user)
for label in gmail.users().labels().list(userId="me").execute()["labels"]:
    print(label["name"])

"""List your Drive files with their name and type.

python examples/drive_files.py [client_secret.json]
"""

import sys

import gtoken

secrets = sys.argv[1] if len(sys.argv) > 1 else "client_secret.json"
drive = gtoken.build("drive", "v3", scopes=["drive.metadata.readonly"], client_secrets=secrets)
request = drive.files().list(pageSize=10, fields="nextPageToken, files(id, name, mimeType)")
while request is not None:
    page = request.execute()
    for item in page["files"]:
        print(f"{item['name']}  [{item['mimeType']}]")
    request = drive.files().list_next(request, page)

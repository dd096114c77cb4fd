"""Write a small table into a spreadsheet with values.batchUpdate, then read it back.

    python examples/sheets_write_read.py [SPREADSHEET_ID] [client_secret.json]

Without an id, a new spreadsheet is created.
"""

import sys

import gtoken

secrets = sys.argv[2] if len(sys.argv) > 2 else "client_secret.json"
sheets = gtoken.build("sheets", "v4", scopes=["spreadsheets"], client_secrets=secrets)
if len(sys.argv) > 1:
    spreadsheet_id = sys.argv[1]
else:
    created = (
        sheets.spreadsheets().create(body={"properties": {"title": "gtoken example"}}).execute()
    )
    spreadsheet_id = created["spreadsheetId"]
values = sheets.spreadsheets().values()
values.batchUpdate(
    spreadsheetId=spreadsheet_id,
    body={
        "valueInputOption": "USER_ENTERED",
        "data": [
            {"range": "A1:C1", "values": [["item", "count", "price"]]},
            {"range": "A2:C3", "values": [["apples", 3, 0.5], ["pears", 2, 0.75]]},
        ],
    },
).execute()
table = values.get(spreadsheetId=spreadsheet_id, range="A1:C3").execute()["values"]
for row in table:
    print("\t".join(row))

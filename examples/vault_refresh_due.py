"""Keep every user's Google grant alive: refresh the tokens that expire soon, and use the refresh
tokens that sat unused for a month (Google drops them after six).

Run it from cron every few minutes, in one replica or in all of them at once (each connection is
claimed by one runner): GTOKEN_DATABASE_URL=... GTOKEN_VAULT_KEYS=... python vault_refresh_due.py
"""

import sys

import gtoken

with gtoken.Vault() as vault:  # the web clients are kept in the database: no client_secret.json
    report = vault.refresh_due(within=600, limit=1000)
    print(
        f"{report.claimed} due: {report.refreshed} refreshed, "
        f"{report.needs_consent} need consent, {report.failed} failed for now"
    )
    for connection in vault.connections(status="needs_consent", limit=100):
        print(f"needs consent: {connection.user_id} ({connection.email})")
sys.exit(1 if report.failed else 0)

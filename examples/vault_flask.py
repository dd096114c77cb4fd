"""Each user of a Flask site connects their Gmail; the site lists their labels.

The server-side flow with gtoken.Vault. Put the "web" client's client_secret.json (its redirect URI:
this site's /oauth2callback) here, set GTOKEN_DATABASE_URL, GTOKEN_VAULT_KEYS and FLASK_SECRET_KEY,
then: flask --app vault_flask run
"""

import html
import os

import flask
from flask.typing import ResponseReturnValue
from googleapiclient.discovery import build

import gtoken
import gtoken.endpoints

app = flask.Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
vault = gtoken.Vault(client_secrets="client_secret.json")
SCOPES = ["gmail.readonly"]
# Google's Gmail, or the emulator's when GTOKEN_EMULATOR_HOST is set.
GMAIL = gtoken.endpoints.current().api_endpoint("gmail")


def user_id() -> str:
    if "user_id" not in flask.session:
        flask.abort(401)
    return str(flask.session["user_id"])


@app.post("/sign-in")
def sign_in() -> ResponseReturnValue:  # stands in for the site's own sign-in
    flask.session["user_id"] = flask.request.form["user_id"]
    return flask.redirect("/labels", 303)


@app.get("/connect")
def connect() -> ResponseReturnValue:
    return flask.redirect(vault.authorization_url(user_id(), scopes=SCOPES))


@app.get("/oauth2callback")
def oauth2callback() -> ResponseReturnValue:
    try:
        vault.complete(flask.request.url, user_id=user_id())
    except gtoken.StateError:  # used, expired, forged, or started by another user
        return 'That link has expired. <a href="/connect">Connect Gmail</a>', 400
    except gtoken.AccessDenied:
        return 'Gmail was not connected. <a href="/connect">Connect Gmail</a>', 200
    return flask.redirect("/labels")


@app.get("/labels")
def labels() -> ResponseReturnValue:
    try:
        creds = vault.credentials(user_id(), scopes=SCOPES)
        options = {"api_endpoint": GMAIL} if GMAIL else None
        gmail = build("gmail", "v1", credentials=creds, client_options=options)
        found = gmail.users().labels().list(userId="me").execute()["labels"]
    except gtoken.ConsentRequired as needed:  # never connected, or the grant is gone
        link = html.escape(needed.url or "/connect")
        return f'Gmail needs your consent. <a href="{link}">Connect Gmail</a>', 200
    except gtoken.TransientError:  # Google or the network, for a moment; nothing changed
        return "Google did not answer. Try again in a minute.", 503
    return {"labels": sorted(label["name"] for label in found)}

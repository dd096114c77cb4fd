"""The emulator's HTML: Google's error page, the consent page and the device-code pages.

Plain HTML forms, no script, so a test can drive them with a browser or with plain HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from gtoken.emulator import scopes as sc
from gtoken.emulator.errors import EmulatorError

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f0f4f9;margin:0}
main{max-width:34rem;margin:3rem auto;background:#fff;border-radius:1.5rem;padding:2rem 2.5rem}
h1{font-weight:400;font-size:1.6rem}.muted{color:#444;font-size:.9rem}
fieldset{border:0;padding:0;margin:1rem 0}legend{font-weight:600;margin-bottom:.5rem}
label{display:block;padding:.4rem 0}.actions{display:flex;gap:1rem;justify-content:flex-end}
button{font-size:1rem;padding:.6rem 1.4rem;border-radius:1.2rem;border:1px solid #747775;
background:#fff;cursor:pointer}button.primary{background:#0b57d0;color:#fff;border-color:#0b57d0}
code{background:#f0f0f0;padding:.1rem .3rem;border-radius:.3rem}
ul{margin:.2rem 0 .4rem;padding-left:1.4rem}li{padding:.2rem 0}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def error_page(error: EmulatorError) -> str:
    heading = "Access blocked: this app's request is invalid"
    if error.error == "invalid_client":
        heading = "Access blocked: authorization error"
    return _page(
        f"Error {error.status}: {error.error}",
        f"<h1>{escape(heading)}</h1>"
        f"<p id=error-code><strong>Error {error.status}: {escape(error.error)}</strong></p>"
        f"<p id=error-description>{escape(error.description)}</p>"
        "<p class=muted>gtoken emulator: this page stands where Google shows its own; the "
        "browser is not sent back to the application.</p>",
    )


def consent_page(
    *,
    action: str,
    session: str,
    app_name: str,
    scopes: Iterable[str],
    accounts: Iterable[str],
    selected: str | None,
) -> str:
    account_rows = []
    for email in accounts:
        checked = " checked" if email == selected else ""
        account_rows.append(
            f"<label><input type=radio name=account value='{escape(email)}'{checked}> "
            f"{escape(email)}</label>"
        )
    account_rows.append(
        "<label>Use another account: <input type=email name=new_account "
        "placeholder='someone@example.com'></label>"
    )
    basic_rows, scope_rows = [], []
    for scope in scopes:
        if scope in sc.BASIC:
            basic_rows.append(f"<li>{escape(sc.label(scope))}</li>")
        else:
            scope_rows.append(
                f"<label><input type=checkbox name=scope value='{escape(scope)}' checked> "
                f"{escape(sc.label(scope))} <code>{escape(scope)}</code></label>"
            )
    if basic_rows:
        scope_rows.insert(0, f"<ul>{''.join(basic_rows)}</ul>")
    return _page(
        f"Sign in - {app_name}",
        f"<h1>{escape(app_name)} wants access to your Google Account</h1>"
        f"<form method=post action='{escape(action)}'>"
        f"<input type=hidden name=consent_id value='{escape(session)}'>"
        f"<fieldset><legend>Choose an account</legend>{''.join(account_rows)}</fieldset>"
        f"<fieldset><legend>Select what {escape(app_name)} can access</legend>"
        f"{''.join(scope_rows)}</fieldset>"
        "<div class=actions><button type=submit name=action value=cancel>Cancel</button>"
        "<button class=primary type=submit name=action value=allow>Allow</button></div>"
        "</form>",
    )


def device_entry_page(message: str = "") -> str:
    note = f"<p id=error-description>{escape(message)}</p>" if message else ""
    return _page(
        "Connect a device",
        "<h1>Enter the code displayed on your device</h1>"
        f"{note}<form method=post action='/device'>"
        "<label>Code <input name=user_code autocomplete=off autofocus></label>"
        "<div class=actions><button class=primary type=submit>Next</button></div></form>",
    )


def done_page(message: str) -> str:
    return _page("Done", f"<h1>{escape(message)}</h1><p class=muted>You can close this window.</p>")

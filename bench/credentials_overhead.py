"""What gtoken's google-auth Credentials add to each request of a Google client library.

Target: with a valid token, under 5 µs per request more than google-auth's own Credentials with
a static token. ``googleapiclient`` sends each request through google-auth-httplib2's
``AuthorizedHttp``, which calls ``credentials.before_request(request, method, url, headers)``;
that call is timed for both, side by side in one run. A whole API request against the emulator
is timed too, for scale (no target).
"""

from __future__ import annotations

import statistics
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
from google.auth import credentials as ga_credentials
from google.oauth2.credentials import Credentials as GoogleCredentials
from googleapiclient.discovery import build

import gtoken
from bench import report
from bench.account import GMAIL, SignedIn, signed_in

NAME = "credentials_overhead"
TITLE = "Credentials: per-request overhead"
TARGET_US = 5.0  # µs per request more than google-auth's Credentials
CALLS = 20_000  # before_request calls per repeat
REPEATS = 7  # of each, alternating; the best repeat counts
API_CALLS = 100  # whole requests of each, alternating, for scale
URL = "https://gmail.googleapis.com/gmail/v1/users/me/labels?alt=json"


@dataclass(frozen=True)
class Outcome:
    gtoken_us: float  # best per-call time of before_request, µs
    google_us: float
    gtoken_api_ms: float  # median whole labels.list request, ms
    google_api_ms: float
    headers: dict[str, list[str]]  # the headers each set on a request
    problems: list[str]

    @property
    def overhead_us(self) -> float:
        return self.gtoken_us - self.google_us

    @property
    def ok(self) -> bool:
        return not self.problems and self.overhead_us < TARGET_US


def both(account: SignedIn) -> tuple[ga_credentials.Credentials, ga_credentials.Credentials]:
    """gtoken's Credentials for the stored account, and google-auth's own for its token."""
    ours = gtoken.credentials(["gmail.readonly"], env=account.env, login="never")
    expires_at = account.login.expires_at
    assert expires_at is not None
    static = GoogleCredentials(  # type: ignore[no-untyped-call]
        token=account.login.access_token,
        expiry=expires_at.astimezone(UTC).replace(tzinfo=None),  # google-auth's naive UTC
        scopes=[GMAIL],
    )
    return ours, static


def per_call(creds: ga_credentials.Credentials, request: Any) -> Callable[[], None]:
    def call() -> None:
        creds.before_request(request, "GET", URL, {})  # type: ignore[no-untyped-call]

    return call


def best_us(timers: dict[str, timeit.Timer]) -> dict[str, float]:
    """Each timer's best repeat, in µs per call; repeats alternate between the timers."""
    best = dict.fromkeys(timers, float("inf"))
    for _ in range(REPEATS):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.timeit(CALLS) / CALLS * 1e6)
    return best


def api_ms(services: dict[str, Any]) -> dict[str, float]:
    """Median time of a whole ``users.labels.list`` request through each service, in ms."""
    seconds: dict[str, list[float]] = {name: [] for name in services}
    for _ in range(API_CALLS):
        for name, service in services.items():
            start = time.perf_counter()
            service.users().labels().list(userId="me").execute()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) * 1000 for name, times in seconds.items()}


def run() -> Outcome:
    problems: list[str] = []
    set_headers: dict[str, list[str]] = {}
    with signed_in() as account:
        ours, static = both(account)
        request = google_auth_httplib2.Request(httplib2.Http())
        for name, creds in (("gtoken", ours), ("google-auth", static)):
            headers: dict[str, str] = {}
            creds.before_request(request, "GET", URL, headers)  # type: ignore[no-untyped-call]
            if headers.get("authorization") != f"Bearer {account.login.access_token}":
                problems.append(f"{name}'s Credentials did not send the stored token")
            set_headers[name] = sorted(headers)
        refreshes = account.refreshes()
        best = best_us(
            {
                "gtoken": timeit.Timer(per_call(ours, request)),
                "google-auth": timeit.Timer(per_call(static, request)),
            }
        )
        endpoint = account.emu.api_endpoint("gmail")
        services = {
            name: build(
                "gmail",
                "v1",
                credentials=creds,
                client_options={"api_endpoint": endpoint},
                static_discovery=True,
            )
            for name, creds in (("gtoken", ours), ("google-auth", static))
        }
        whole = api_ms(services)
        if account.refreshes() != refreshes:
            problems.append("the token was refreshed while it was valid")
    return Outcome(
        best["gtoken"],
        best["google-auth"],
        whole["gtoken"],
        whole["google-auth"],
        set_headers,
        problems,
    )


# -- telling ------------------------------------------------------------------------------------

HEADERS = ["credentials", "before_request µs", "labels.list ms"]


def _table(outcome: Outcome) -> list[list[str]]:
    return [
        ["gtoken.credentials(...)", f"{outcome.gtoken_us:.2f}", f"{outcome.gtoken_api_ms:.2f}"],
        [
            "google.oauth2.credentials.Credentials(token=...)",
            f"{outcome.google_us:.2f}",
            f"{outcome.google_api_ms:.2f}",
        ],
        [
            "**gtoken's overhead**",
            f"**{outcome.overhead_us:+.2f}**",
            f"{outcome.gtoken_api_ms - outcome.google_api_ms:+.2f}",
        ],
    ]


def _verdict(outcome: Outcome) -> list[str]:
    lines = [f"{p}." for p in outcome.problems]
    verb = "meets" if outcome.overhead_us < TARGET_US else "misses"
    if outcome.overhead_us < 0:
        said = f"take {-outcome.overhead_us:.2f} µs less per request than google-auth's"
    else:
        said = f"add {outcome.overhead_us:.2f} µs to each request"
    lines.append(f"gtoken's Credentials {said}: {verb} the target of under {TARGET_US:.0f} µs.")
    extra = sorted(set(outcome.headers["google-auth"]) - set(outcome.headers["gtoken"]))
    if extra:
        lines.append(
            f"google-auth's also set {', '.join(f'`{h}`' for h in extra)} (its usage metrics), "
            "which gtoken's leave out."
        )
    lines.append(
        f"A whole request to the emulator takes {outcome.google_api_ms:.2f} ms, so the "
        "difference there is noise."
    )
    return lines


def _setting() -> str:
    return (
        f"before_request: best of {REPEATS} alternating repeats of {CALLS:,} calls; labels.list: "
        f"median of {API_CALLS} alternating requests"
    )


def text(outcome: Outcome) -> str:
    rows = [[cell.replace("**", "") for cell in row] for row in _table(outcome)]
    return "\n".join(
        [
            f"{TITLE}: target under {TARGET_US:.0f} µs per request; {_setting()}",
            report.text_table(HEADERS, rows),
            *_verdict(outcome),
        ]
    )


def markdown(outcome: Outcome, machine: report.Machine) -> str:
    return f"""\
## {TITLE}

**Target**: with a valid token, the per-request overhead gtoken's Credentials add to a
`googleapiclient` call is under {TARGET_US:.0f} µs, measured against google-auth's own
`Credentials` with a static token.

**Method** (`bench/credentials_overhead.py`): sign an account in against `gtoken emulator` in a
temporary `GTOKEN_HOME`; take `gtoken.credentials(["gmail.readonly"])` (its first request reads
the stored token) and `google.oauth2.credentials.Credentials(token=..., expiry=...)` holding the
same token. `googleapiclient` sends every request through google-auth-httplib2's `AuthorizedHttp`,
which calls `credentials.before_request(request, method, url, headers)`: it checks the token,
refreshes it when needed, and sets the `Authorization` header. That call is timed for both with
`timeit`, {CALLS:,} calls per repeat, {REPEATS} repeats alternating between the two, best repeat
counted (the least disturbed by other work). Both must set the stored token's header, and no
refresh may happen. For scale, a whole `users.labels.list` request through
`googleapiclient.discovery.build("gmail", "v1", ...)` against the emulator is timed too
(median of {API_CALLS} of each, alternating; no target).

**Last run**: {machine.line()}; {_setting()}.

{report.markdown_table(HEADERS, _table(outcome))}

{" ".join(_verdict(outcome))}
"""

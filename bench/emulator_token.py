"""The emulator's token endpoint under load, for each grant that many clients send at once.

Target: 1,000 requests/s on the project's 2-core machine. The emulator runs as its own process
(``python -m gtoken emulator --port 0``), set up over its control API; the load generator runs on
the other core. Every case must get only 200s back, and the emulator's own counters
(``GET /_emulator/stats``) must have seen the requests the generator says were answered.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from http.client import HTTPConnection
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench import cpu, report
from bench.emulator import Server, emulator_process
from bench.load import Generator, Load, Result
from gtoken.emulator.client import Emulator

NAME = "emulator_token"
TITLE = "Emulator token endpoint"
TARGET = 1000.0  # requests/s
USERS = 32
CODES = 6000  # single-use: the authorization_code case stops early if it uses them all
MINTERS = 4  # connections minting codes
# A measurement that missed the target says the machine was busy when other work took more than
# this share of a core, or the emulator got less than this one.
OTHER_WORK = 0.2
SERVER_SHARE = 0.8
MARGIN = 0.15  # a rate closer than this above the target is pointed out as narrow
GMAIL = "https://www.googleapis.com/auth/gmail.readonly"
REDIRECT_URI = "http://127.0.0.1:8765/"  # nothing listens; the code is read off the redirect


@dataclass(frozen=True)
class Options:
    seconds: int = 5
    warmup: int = 1
    connections: int = 32


@dataclass(frozen=True)
class Case:
    name: str
    grant: str  # its key in the emulator's stats
    what: str
    bodies: list[str]
    id_token: bool = False
    once: bool = False  # each body works once (codes)


@dataclass(frozen=True)
class Row:
    case: Case
    result: Result
    counted: int  # requests of this grant the emulator counted during the run
    cpu: cpu.Shares
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    rows: list[Row]
    generator: Generator
    options: Options
    signature_ms: float  # one RS256 signature with a 2048-bit key, in this process

    @property
    def ok(self) -> bool:
        return all(not row.problems for row in self.rows)


# -- the emulator and its setup -----------------------------------------------------------------


@dataclass(frozen=True)
class App:
    """One installed-app client and its users, as the token endpoint will see them."""

    url: str
    client_id: str
    client_secret: str
    emails: list[str]

    def authorize_params(self, email: str, scope: str) -> tuple[dict[str, str], str]:
        """A consent request with PKCE that yields a code and a refresh token; and its verifier."""
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        params = {
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": scope,
            "access_type": "offline",
            "prompt": "consent",
            "login_hint": email,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return params, verifier

    def exchange_body(self, code: str, verifier: str) -> str:
        return urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "redirect_uri": REDIRECT_URI,
            }
        )

    def refresh_body(self, refresh_token: str) -> str:
        return urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        )


def set_up(emu: Emulator) -> App:
    client = emu.create_client(type="installed")["installed"]
    emails = [f"user{n}@example.com" for n in range(USERS)]
    for email in emails:
        emu.create_user(email)
    emu.consent_auto()  # the account is the request's login_hint
    return App(emu.url, client["client_id"], client["client_secret"], emails)


def _code(status: int, location: str | None, text: str) -> str:
    """The code off an authorization answer's redirect."""
    if status != 302 or location is None:
        raise RuntimeError(f"authorization refused: {status} {text}")
    return parse_qs(urlsplit(location).query)["code"][0]


def refresh_bodies(app: App, scope: str) -> list[str]:
    """One refresh token per user, by the code flow; the refresh request bodies."""
    bodies = []
    with httpx.Client(base_url=app.url) as http:
        for email in app.emails:
            params, verifier = app.authorize_params(email, scope)
            answer = http.get("/o/oauth2/v2/auth", params=params)
            code = _code(answer.status_code, answer.headers.get("location"), answer.text)
            answer = http.post("/token", content=app.exchange_body(code, verifier), headers=FORM)
            answer.raise_for_status()
            bodies.append(app.refresh_body(answer.json()["refresh_token"]))
    return bodies


def exchange_bodies(app: App, scope: str, count: int) -> list[str]:
    """``count`` fresh authorization codes (PKCE, refresh token included): exchange bodies.

    Four threads, each with one keep-alive ``http.client`` connection: the lightest client at
    hand, as minting thousands of codes should not take longer than using them.
    """
    address = urlsplit(app.url)

    def mint(worker: int) -> list[str]:
        http = HTTPConnection(address.hostname or "", address.port, timeout=10)
        bodies = []
        try:
            for n in range(worker, count, MINTERS):
                params, verifier = app.authorize_params(app.emails[n % len(app.emails)], scope)
                http.request("GET", f"/o/oauth2/v2/auth?{urlencode(params)}")
                answer = http.getresponse()
                text = answer.read().decode(errors="replace")
                bodies.append(
                    app.exchange_body(
                        _code(answer.status, answer.getheader("location"), text), verifier
                    )
                )
        finally:
            http.close()
        return bodies

    with ThreadPoolExecutor(MINTERS) as pool:
        return [body for bodies in pool.map(mint, range(MINTERS)) for body in bodies]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def check_answer(app: App, body: str, *, id_token: bool) -> None:
    """One request by hand: the load must be of successful answers of the right shape."""
    answer = httpx.post(f"{app.url}/token", content=body, headers=FORM)
    data = answer.json()
    if answer.status_code != 200 or "access_token" not in data or ("id_token" in data) != id_token:
        raise RuntimeError(f"unexpected token answer: {answer.status_code} {sorted(data)}")


# -- the run ------------------------------------------------------------------------------------


def cases(app: App) -> list[Case]:
    """The requests to send, each kind checked once by hand first."""
    built = [
        Case(
            "refresh_token",
            "refresh_token",
            f"refresh, one Gmail scope; {USERS} users' refresh tokens in turn",
            refresh_bodies(app, GMAIL),
        ),
        Case(
            "refresh_token + id_token",
            "refresh_token",
            "refresh with `openid email` too: each answer carries an RS256-signed ID token "
            "(equal claims within one second share a signature, as RS256 is deterministic)",
            refresh_bodies(app, f"openid email {GMAIL}"),
            id_token=True,
        ),
        Case(
            "authorization_code",
            "authorization_code",
            f"code exchange with PKCE S256, each issuing a new refresh token; {CODES:,} codes "
            "minted beforehand, the run stops early if it uses them all",
            exchange_bodies(app, GMAIL, CODES + 1),
            once=True,
        ),
    ]
    for case in built:
        check_answer(app, case.bodies[0], id_token=case.id_token)
    # A code works once: the one just checked is spent.
    return [replace(case, bodies=case.bodies[1:]) if case.once else case for case in built]


def measure(
    server: Server, emu: Emulator, generator: Generator, case: Case, options: Options
) -> Row:
    before = emu.stats()["token"].get(case.grant, 0)
    cpu_before = cpu.snapshot(server.pid)
    load = Load(
        url=f"{emu.url}/token",
        bodies=case.bodies,
        once=case.once,
        connections=options.connections,
        seconds=options.seconds,
    )
    result = generator.run(load)
    used = cpu.shares(cpu_before, cpu.snapshot(server.pid), busy=result.seconds)
    counted = emu.stats()["token"].get(case.grant, 0) - before
    return Row(case, result, counted, used, _problems(result, counted, used, options))


def _problems(result: Result, counted: int, used: cpu.Shares, options: Options) -> list[str]:
    problems = []
    if result.rate < TARGET:
        problems.append(f"{result.rate:,.0f} requests/s is below the target of {TARGET:,.0f}")
        if (used.other or 0) > OTHER_WORK or (used.server or 1) < SERVER_SHARE:
            problems.append(
                f"other work used {used.other or 0:.0%} of a core meanwhile, and the emulator "
                f"had {used.server or 0:.0%} of one: measure again on a quiet machine"
            )
    if result.non_200:
        problems.append(f"{result.non_200} answers were not 200")
    if result.socket_errors:
        problems.append(f"{result.socket_errors} connection errors or timeouts")
    # Requests in flight when the generator stops reach the emulator but their answers are not
    # read, so the emulator may count up to one per connection more.
    if not result.requests <= counted <= result.requests + options.connections + 1:
        problems.append(f"the emulator counted {counted} requests, not {result.requests}")
    return problems


def signature_ms(count: int = 200) -> float:
    """How long an ID token's RS256 signature takes here, with a 2048-bit key as Google's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = secrets.token_bytes(600)  # about a signed ID token's header and claims
    start = time.perf_counter()
    for _ in range(count):
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return (time.perf_counter() - start) / count * 1000


def run(generator: Generator, options: Options) -> Outcome:
    with emulator_process() as server, Emulator(server.url) as emu:
        app = set_up(emu)
        todo = cases(app)
        url = f"{server.url}/token"
        generator.run(Load(url, todo[0].bodies, False, options.connections, options.warmup))
        rows = [measure(server, emu, generator, case, options) for case in todo]
    return Outcome(rows, generator, options, signature_ms())


# -- telling ------------------------------------------------------------------------------------

HEADERS = [
    "grant",
    "req/s",
    "× target",
    "× refresh_token",  # the first row: each grant beside a plain refresh, from the same run
    "p50 ms",
    "p99 ms",
    "errors",
    "answered",
    "counted",
    "emulator CPU",
    "other CPU",
]


def _cells(row: Row, first: Row) -> list[str]:
    r = row.result
    return [
        row.case.name,
        f"{r.rate:,.0f}",
        f"{r.rate / TARGET:.2f}",
        f"{r.rate / first.result.rate:.2f}" if first.result.rate else "n/a",
        f"{r.p50_ms:.1f}",
        f"{r.p99_ms:.1f}",
        str(r.non_200 + r.socket_errors),
        f"{r.requests:,}",
        f"{row.counted:,}",
        _percent(row.cpu.server),
        _percent(row.cpu.other),
    ]


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def _table(outcome: Outcome) -> list[list[str]]:
    return [_cells(row, outcome.rows[0]) for row in outcome.rows]


def _setting(outcome: Outcome) -> str:
    o = outcome.options
    return (
        f"{o.connections} keep-alive connections, {o.seconds} s per grant after a {o.warmup} s "
        f"warm-up, load from {outcome.generator.name}"
    )


def _verdict(outcome: Outcome) -> list[str]:
    if outcome.ok:
        lines = [f"Every grant meets the target of {TARGET:,.0f} requests/s."]
    else:
        lines = [f"{row.case.name}: {p}." for row in outcome.rows for p in row.problems]
    narrow = [r.case.name for r in outcome.rows if 1 <= r.result.rate / TARGET < 1 + MARGIN]
    if narrow:
        lines.append(
            f"Within {MARGIN:.0%} of the target, so likely to miss it on some runs (rates vary "
            f"by about as much from run to run, even on a quiet machine): {', '.join(narrow)}."
        )
    return lines


def _signature(outcome: Outcome) -> str:
    ms = outcome.signature_ms
    return (
        f"One RS256 signature with a 2048-bit key (the size of Google's) takes {ms:.2f} ms here, "
        f"which would cap refreshes that return an ID token at {1000 / ms:,.0f}/s on one core "
        "if every answer were signed afresh; the emulator signs equal claims once."
    )


def text(outcome: Outcome) -> str:
    lines = [
        f"{TITLE}: target {TARGET:,.0f} requests/s; {_setting(outcome)}",
        report.text_table(HEADERS, _table(outcome)),
        *_verdict(outcome),
        _signature(outcome),
    ]
    if outcome.generator.lower_bound:
        lines.append("(the Python load generator takes CPU from the emulator: a lower bound)")
    return "\n".join(lines)


def markdown(outcome: Outcome, machine: report.Machine) -> str:
    what = "\n".join(f"- **{row.case.name}**: {row.case.what}." for row in outcome.rows)
    lower = (
        "\n\nwrk was not available: the Python load generator took CPU from the emulator, so "
        "these numbers are a lower bound."
        if outcome.generator.lower_bound
        else ""
    )
    return f"""\
## {TITLE}

**Target**: the token endpoint serves at least {TARGET:,.0f} requests/s on the project's 2-core
machine, with many clients at once.

**Method** (`bench/emulator_token.py`): start `gtoken emulator` as a subprocess on 127.0.0.1 (one
process, as users run it); over its control API make one installed-app client and {USERS} users
with auto consent; get refresh tokens and codes through the authorization endpoint with PKCE;
then load `POST /token` with each grant in turn. Every answer must be a 200 ("errors" counts the
others and connection errors), and the emulator's own count of token requests
(`GET /_emulator/stats`) must match the answers received ("counted" may exceed "answered" by the
requests still in flight when the load stopped). "× refresh_token" sets each grant beside a
plain refresh measured in the same run. "emulator CPU" is the emulator's CPU time over the time
measured (100% is one core all along); "other CPU" is what the rest of the machine used
meanwhile, the load generator left out: near 0% means the run had the machine to itself.

**Last run**: {machine.line()}; {_setting(outcome)}.

{report.markdown_table(HEADERS, _table(outcome))}

{what}

{" ".join(_verdict(outcome))} {_signature(outcome)}{lower}
"""

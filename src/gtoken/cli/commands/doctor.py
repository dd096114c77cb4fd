"""``gtoken doctor``: every finding of :func:`gtoken.doctor.run_checks`, with its fix."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gtoken.cli.exits import EXIT_CONFIG, EXIT_OK
from gtoken.cli.output import ENV_CLIENT_SECRETS, Io

_WIDTH = len("warning") + 2


def doctor(args: argparse.Namespace, io: Io) -> int:
    from gtoken.doctor import run_checks

    given = args.client_secrets or io.env.get(ENV_CLIENT_SECRETS)
    findings = run_checks(io.env, client_secrets=Path(given).expanduser() if given else None)
    if args.json:
        documents = [
            {"level": f.level, "subject": f.subject, "detail": f.detail, "fix": f.fix}
            for f in findings
        ]
        io.data(json.dumps(documents, indent=2) + "\n")
    else:
        for f in findings:
            io.data(f"{f.level:<{_WIDTH}}{f.subject}: {f.detail}\n")
            if f.fix:
                io.data(f"{'':<{_WIDTH}}fix: {f.fix}\n")
    problems = sum(f.level == "problem" for f in findings)
    warnings = sum(f.level == "warning" for f in findings)
    summary = f"{_count(problems, 'problem')}, {_count(warnings, 'warning')}."
    io.say(io.bad(summary) if problems else summary)
    return EXIT_CONFIG if problems else EXIT_OK


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"

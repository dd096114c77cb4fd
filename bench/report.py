"""What a benchmark result is told with: the machine, the date, tables, and docs/benchmarks.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
TITLE = "# Benchmarks"


def docs_head(targets: Sequence[tuple[str, str]]) -> str:
    """The introduction of docs/benchmarks.md: the command, and each benchmark's target."""
    listing = markdown_table(["benchmark", "target"], [[f"`{n}`", t] for n, t in targets], left=2)
    return f"""\
{TITLE}

Speed targets are checked by benchmarks, never by timed assertions in the test suite. One command
runs them all:

```sh
./dev bench                   # or, in any environment with gtoken[emulator]: python -m bench
./dev bench token_cli         # only the benchmarks named
python -m bench --help        # options: --seconds, --connections, --load wrk|python, --no-docs
```

{listing}

Each run prints its tables, rewrites the sections below of the benchmarks it ran (and this
introduction) with the numbers, the machine and the date, and exits 1 when a target is missed.
What is compared is measured side by side in the same run and told as a ratio. Everything runs
on 127.0.0.1, for bounded counts and times, in temporary gtoken homes that are removed
afterwards; the whole run takes about a minute on the project's 2-core machine. The benchmarks
are not part of `./dev test` or CI.
"""


@dataclass(frozen=True)
class Told:
    """A benchmark's result as told: for the terminal, for the docs, and whether it passed."""

    ok: bool
    text: str
    markdown: str


@dataclass(frozen=True)
class Machine:
    cpus: int
    cpu_model: str
    python: str
    system: str
    date: str

    def line(self) -> str:
        return (
            f"{self.date}, {self.cpus} cores ({self.cpu_model}), {self.system}, "
            f"Python {self.python}"
        )


def machine() -> Machine:
    return Machine(
        cpus=len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 0,
        cpu_model=_cpu_model(),
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns for a terminal: the first left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> str:
    """A Markdown table: the first ``left`` columns left-aligned, the others (numbers) right."""
    align = ["---"] * left + ["---:"] * (len(headers) - left)
    lines = [headers, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def write_head(head: str, path: Path = DOCS) -> None:
    """Replace the docs' introduction (everything before the first section) with ``head``."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    first = text.find("<!-- bench:")
    sections = text[first:] if first >= 0 else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        head.rstrip("\n") + "\n" + ("\n" + sections if sections else ""), encoding="utf-8"
    )


def write_section(name: str, markdown: str, path: Path = DOCS) -> None:
    """Replace benchmark ``name``'s section of the docs (added at the end the first time)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    section = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else TITLE + "\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")

"""``./dev mutate [PATH ...]``: mutation testing of gtoken's core with mutmut.

mutmut makes small changes to the code (a ``<`` for a ``<=``, a string changed, an argument
dropped), one at a time, and runs the tests that reach the changed function; a change no test
notices ("survived") is a promise no test holds.

The core is mutated in groups (:data:`GROUPS`), each against its own unit tests only, which
keeps a run within the hour on two cores: every mutant runs the tests of its group that reach
the mutated function, in a forked process. Each group runs in its own directory,
``build/mutation/GROUP`` (mutmut keeps its results in ``mutants/`` there, so a second run only
tries what changed); ``cd`` there to look at one mutant with ``../../../.venv/bin/mutmut show
NAME``.

PATH (a file or folder of the core, default: all of it) narrows the run; ``--again`` runs only
the mutants not killed so far (survivors, and mutants of code changed since), after tests were
added. Prints the score per group and
the surviving mutants. Exits 1 when a group scores under :data:`TARGET`, 2 on a
PATH outside the core.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).parent / "mutmut"
WORK = ROOT / "build" / "mutation"

#: Share of mutants the tests must kill in each group.
TARGET = 0.90


@dataclass(frozen=True)
class Group:
    title: str
    files: tuple[str, ...]  # globs, relative to the repository
    tests: tuple[str, ...]
    deselect: tuple[str, ...] = ()
    #: pytest's per-test limit for this group's mutants, when the project's is too long.
    timeout: int | None = None


GROUPS = {
    "oauth": Group(
        "oauth protocol",
        files=("src/gtoken/oauth/*.py",),
        tests=("tests/oauth",),
        # Reads the source for its imports, which mutmut rewrites; no mutant changes an import.
        deselect=("tests/oauth/test_public_api.py::test_the_protocol_does_no_io",),
    ),
    "store": Group(
        "store crypto and records",
        files=(
            "src/gtoken/store/crypto.py",
            "src/gtoken/store/records.py",
            "src/gtoken/store/rows.py",
        ),
        tests=("tests/store",),
    ),
    "refresh": Group(
        "refresh engine",
        files=("src/gtoken/refresh/*.py",),
        # The engine's own tests; tests/test_refresh.py drives it through the accounts and the
        # emulator, minutes per mutant.
        tests=("tests/refresh",),
        # A broken single flight leaves threads waiting for ever; each such mutant then fails
        # its test at this limit instead of pyproject.toml's 300 s.
        timeout=60,
    ),
}

KILLED = {"killed", "timeout", "caught by type check"}
NOT_RUN = {"not checked", "skipped"}


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)

    def add(self, name: str, status: str) -> None:
        self.counts[status] += 1
        if status not in KILLED | NOT_RUN:
            self.survivors.append(f"{name} ({status})")

    @property
    def tried(self) -> int:
        return sum(n for status, n in self.counts.items() if status not in NOT_RUN)

    @property
    def killed(self) -> int:
        return sum(self.counts[status] for status in KILLED)

    @property
    def score(self) -> float:
        return self.killed / self.tried if self.tried else 1.0


def files_of(group: Group) -> list[str]:
    return sorted(
        rel
        for path in (ROOT / "src").rglob("*.py")
        if any(fnmatch.fnmatch(rel := str(path.relative_to(ROOT)), g) for g in group.files)
    )


def module_of(path: str) -> str:
    """``src/gtoken/oauth/pkce.py`` -> ``gtoken.oauth.pkce``, as mutmut names mutants."""
    dotted = path.removeprefix("src/").removesuffix(".py").replace("/", ".")
    return dotted.removesuffix(".__init__")


def selected(paths: list[str]) -> dict[str, list[str]]:
    """The core's files under ``paths`` (all of them when none is given), by group."""
    chosen: dict[str, list[str]] = {}
    for given in paths or [str(ROOT / "src")]:
        wanted = os.path.relpath(Path(given).resolve(), ROOT)
        found = 0
        for name, group in GROUPS.items():
            for f in files_of(group):
                if f == wanted or f.startswith(wanted.rstrip("/") + "/") or wanted == ".":
                    chosen.setdefault(name, [])
                    if f not in chosen[name]:
                        chosen[name].append(f)
                    found += 1
        if not found:
            core = ", ".join(f for g in GROUPS.values() for f in g.files)
            print(f"mutate: {given} holds none of the core's files ({core})", file=sys.stderr)
            sys.exit(2)
    return chosen


def prepare(name: str, group: Group) -> Path:
    """``build/mutation/NAME``: the code and tests (linked), and pyproject.toml with the
    group's ``[tool.mutmut]`` settings."""
    work = WORK / name
    work.mkdir(parents=True, exist_ok=True)
    for linked in ("src", "tests"):
        link = work / linked
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(ROOT / linked, work))
    settings = {
        "source_paths": ["src"],
        "only_mutate": list(group.files),
        "pytest_add_cli_args_test_selection": list(group.tests),
        "pytest_add_cli_args": [a for d in group.deselect for a in ("--deselect", d)]
        + ([f"--timeout={group.timeout}"] if group.timeout else []),
    }
    # JSON lists of strings are TOML arrays as they are.
    section = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    config = (ROOT / "pyproject.toml").read_text() + f"\n[tool.mutmut]\n{section}\n"
    target = work / "pyproject.toml"
    if not target.exists() or target.read_text() != config:
        target.write_text(config)
    return work


def results(work: Path) -> dict[str, str]:
    """Every mutant mutmut knows in ``work``, with its status."""
    out = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            found[name] = status
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./dev mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", metavar="PATH", help="a file or folder of the core")
    parser.add_argument(
        "--max-children", type=int, default=None, help="mutants run at once (default: CPUs)"
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="run only the mutants not killed so far (after adding tests or changing code)",
    )
    args = parser.parse_args(argv)

    tallies: dict[str, Tally] = {}
    for name, files in selected(args.paths).items():
        group = GROUPS[name]
        work = prepare(name, group)
        modules = {module_of(f) for f in files}
        print(f"mutate: {group.title} ({', '.join(files)}) in {work.relative_to(ROOT)}")
        names = [f"{m}.x*" for m in sorted(modules)]
        # With --again, a second pass runs the mutants of code changed since the last run, which
        # mutmut only makes (unchecked) during the first.
        for _ in range(2 if args.again else 1):
            if args.again and (work / "mutants").is_dir():
                names = [
                    mutant
                    for mutant, status in sorted(results(work).items())
                    if mutant.rsplit(".", 1)[0] in modules and status not in KILLED
                ]
            if not names:
                break
            command = [str(MUTMUT), "run", *names]
            if args.max_children:
                command += ["--max-children", str(args.max_children)]
            subprocess.run(command, cwd=work, check=True)
        tally = tallies[name] = Tally()
        for mutant, status in sorted(results(work).items()):
            if mutant.rsplit(".", 1)[0] in modules:
                tally.add(mutant, status)

    print()
    print(f"{'group':<26} {'mutants':>8} {'killed':>7} {'survived':>9} {'score':>7}")
    for name, tally in tallies.items():
        print(
            f"{GROUPS[name].title:<26} {tally.tried:>8} {tally.killed:>7} "
            f"{len(tally.survivors):>9} {tally.score:>7.1%}"
        )
    for name, tally in tallies.items():
        if tally.survivors:
            print(f"\nsurvivors in {GROUPS[name].title} (build/mutation/{name}: mutmut show NAME)")
            for survivor in tally.survivors:
                print(f"  {survivor}")
    low = [GROUPS[n].title for n, t in tallies.items() if t.score < TARGET]
    if low:
        print(f"\nunder the {TARGET:.0%} target: {', '.join(low)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""gtoken's benchmarks: ``python -m bench`` (or ``./dev bench``) runs them all.

Speed targets live here, never as timed assertions in the test suite. Each benchmark prints a
table, writes its section of ``docs/benchmarks.md`` with the machine and the date, and the run
exits non-zero when a target is missed. Load goes to 127.0.0.1 only, bounded in time and count.
"""

"""The README's demo runs, as the README says, and shows what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo_signs_in_lists_mail_and_refreshes_silently() -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "gtoken emulator listening on http://127.0.0.1:" in out
    assert "Signed in as ada@example.com" in out
    assert "*  ada@example.com" in out  # gtoken accounts, the default marked
    assert "  ya29." in out
    assert out.count("unread: ") == 6  # before and after the expiry
    assert "refreshed silently: 1 refresh" in out
    assert "Traceback" not in result.stderr

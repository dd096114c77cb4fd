"""The README's demo runs, as the README says, and shows what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo_prints_a_token_and_the_seeded_labels() -> None:
    result = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "gtoken emulator listening on http://127.0.0.1:" in out
    assert "\n  ya29." in out
    assert "Gmail labels of ada@example.com" in out
    assert "INBOX" in out
    assert "Traceback" not in result.stderr

"""The services the suite promises to find or start are really there."""

from __future__ import annotations

import pytest


@pytest.mark.postgres
def test_postgres_answers(postgres_url: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, connect_timeout=10) as conn:
        (one,) = conn.execute("select 1").fetchone() or (None,)
    assert one == 1

"""Schemathesis against the served OpenAPI document: requests made from the schema (valid and
not) get no 5xx, and the answers match the document. Bounded examples, to stay fast."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.broker.conftest import Served


def test_no_5xx_and_answers_match_the_document(served: Served) -> None:
    schema = schemathesis.openapi.from_url(served.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {served.keys['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10
    seen: dict[str, set[int]] = {}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            reply = case.call(base_url=served.url, headers=headers)
            label = f"{case.method} {case.path}"
            seen.setdefault(label, set()).add(reply.status_code)
            assert reply.status_code < 500, (label, reply.status_code, reply.text[:300])
            # Rules the schema cannot state (a return URL's origin, a registered client, a
            # scope Google would not know) refuse some schema-valid requests with a 400.
            case.validate_response(reply, excluded_checks=[positive_data_acceptance])

        check()
    assert len(seen) == len(operations)

"""Property-based run of the whole API from its own OpenAPI document: no request may cause a server error,
and every status answered is one the document lists for that operation.

schemathesis reads ``/api/openapi.json`` from the in-process WSGI application (the production entry point,
``carbonmeter.web.wsgi``) and sends generated requests to every operation — valid ones, and in its coverage
phase boundary and invalid ones — with the Bearer token of organization A's admin, on the package's plant:
the demo plant (A) and a second plant (B) (see ``conftest.py``).

Each operation is one ``db`` test: what its requests write is rolled back before the next operation.  As
Django's own test client does, the WSGI handler's request signals are kept from closing the connection, which
on PostgreSQL would abort the test's transaction.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, status_code_conformance

from carbonmeter.web.assessment.services.run import run_assessment
from carbonmeter.web.registry.models import Instrument, MeasuringPoint, Organization, SourceStream
from carbonmeter.web.wsgi import application
from tests.web.api.conftest import key_for

#: Examples per operation in the fuzzing phase: enough to reach every branch, few enough for about a minute.
EXAMPLES = 25

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@dataclass
class Targets:
    """Real ids of both organizations and the caller's headers."""

    headers: dict[str, str]
    ids: dict[str, list[int]]

    def aim(self, case: schemathesis.Case) -> None:
        """Point most generated ids at real rows, of A (readable and writable) and of B (invisible).

        Ids are drawn from 1…2^63-1 and would almost never name a row, so only the 404 branches would run.
        An id divisible by 4 is kept as generated; the others are mapped onto the plant's rows.
        """
        if case.path_parameters and "id" in case.path_parameters:
            kind = case.operation.path.split("/")[2]  # /api/<kind>/{id}
            case.path_parameters["id"] = self._real(case.path_parameters["id"], kind)
        for params in (case.query, case.body):
            if not isinstance(params, dict):
                continue
            for name in ("organization", "instrument", "stream"):
                if name in params:
                    params[name] = self._real(params[name], f"{name}s")
            if isinstance(params.get("points"), list):
                params["points"] = [self._real(p, "points") for p in params["points"]]

    def _real(self, value: Any, kind: str) -> Any:
        choices = self.ids[kind]
        if isinstance(value, int) and not isinstance(value, bool) and value % 4:
            return choices[value % len(choices)]
        return value


#: What each operation answered, over the module; checked and printed by the last test.
ANSWERS: dict[str, Counter[int]] = defaultdict(Counter)


@pytest.fixture
def targets(users: dict[str, Any], org_a: Organization, org_b: Organization) -> Targets:
    run = run_assessment(org_a, date(2026, 1, 15), users["admin_a"])
    both = [org_a.pk, org_b.pk]

    def ids(model: Any, each: int) -> list[int]:
        rows = model.objects.filter(organization__in=both).order_by("organization_id", "id")
        return [
            pk for org in both for pk in rows.filter(organization=org).values_list("pk", flat=True)[:each]
        ]

    return Targets(
        headers={"Authorization": f"Bearer {key_for(users['admin_a'])}"},
        ids={
            "organizations": both,
            "instruments": ids(Instrument, 4),
            "streams": ids(SourceStream, 3),
            "points": ids(MeasuringPoint, 3),
            "assessments": [run.pk],
        },
    )


@pytest.fixture
def keep_connection() -> Iterator[None]:
    """Keep the WSGI handler from closing the connection (and so aborting the test's transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_schema_lists_every_operation() -> None:
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert operations == {
        ("GET", "/api/organizations"),
        ("GET", "/api/organizations/{id}"),
        ("GET", "/api/streams"),
        ("GET", "/api/points"),
        ("GET", "/api/instruments"),
        ("POST", "/api/instruments"),
        ("GET", "/api/instruments/{id}"),
        ("PATCH", "/api/instruments/{id}"),
        ("GET", "/api/calibrations"),
        ("POST", "/api/calibrations"),
        ("GET", "/api/assessments"),
        ("POST", "/api/assessments"),
        ("GET", "/api/assessments/{id}"),
        ("GET", "/api/assessments/{id}/emissions"),
        ("GET", "/api/assessments/{id}/emissions/{stream}/budget"),
        ("GET", "/api/assessments/{id}/advisor"),
        ("POST", "/api/readings/batch"),
        ("GET", "/api/readings/runs"),
        ("GET", "/api/readings/batches"),
        ("GET", "/api/readings/quarantine"),
        ("GET", "/api/readings/ledger"),
        ("GET", "/api/readings/balance"),
    }


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case: schemathesis.Case, targets: Targets, keep_connection: None) -> None:
    targets.aim(case)
    # Every status the API answers is one its document lists (a 400 once came undocumented).
    response = case.call_and_validate(
        headers=targets.headers, checks=[not_a_server_error, status_code_conformance]
    )
    # Per operation of the schema (the coverage phase also tries methods a path does not offer: 405).
    ANSWERS[case.operation.label][response.status_code] += 1


def test_every_operation_was_reached_past_authentication() -> None:
    """Runs after the fuzzing (collected first): a 401 everywhere would also have been "no server error"."""
    if not ANSWERS:
        pytest.skip("the fuzzing test did not run")
    requests = sum(sum(c.values()) for c in ANSWERS.values())
    print(f"\nschemathesis: {len(ANSWERS)} operations, {requests} requests")
    for operation, statuses in sorted(ANSWERS.items()):
        print(f"  {operation}: {dict(sorted(statuses.items()))}")
    assert set(ANSWERS) == {op.ok().label for op in schema.get_all_operations()}
    assert all(set(statuses) - {401} for statuses in ANSWERS.values()), ANSWERS

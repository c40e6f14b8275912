"""A stored run with contract v1.1 figures (emissions, uncertainty, budget, advisor, tonnes at stake), for
the page and API tests of the emissions faces.

The web snapshot does not carry formulas and values yet, so the run holds the document the engine writes
for ``examples/demo-cement-plant.json`` (the plant the fixtures import) with its pack, ``cq-part2-cement``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from carbonmeter.core.assess import assess
from carbonmeter.io.snapshot_json import parse_json
from carbonmeter.reports.document import to_document
from carbonmeter.rules.loader import load_pack
from carbonmeter.web.assessment.models import AssessmentRun
from carbonmeter.web.assessment.services.run import keep_run
from carbonmeter.web.registry.models import Organization
from tests.web.conftest import DEMO

AS_OF = date(2026, 1, 15)
PACK = "cq-part2-cement"


def v11_document() -> dict[str, Any]:
    """The §4 document of the demo plant with the v1.1 figures, as ``carbonmeter assess`` writes it."""
    snapshot = parse_json(DEMO.read_bytes(), str(DEMO))
    return to_document(assess(snapshot, load_pack(PACK), AS_OF))


def store_run(org: Organization, document: dict[str, Any], user: Any = None) -> AssessmentRun:
    """A run holding ``document`` (as :func:`run_assessment` stores one)."""
    return keep_run(org, AS_OF, load_pack(PACK), document, user, reason="test fixture")

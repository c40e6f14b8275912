"""``manage.py readings_verify``: the data ledger check (same as ``carbonmeter ledger verify``).

Recomputes every file's sha256, every batch's content hash and the chain, lists files no batch names,
and exits 1 naming the first broken batch, so a scheduler can alert on it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from carbonmeter.web.readings import services


class Command(BaseCommand):
    help = "Verify the readings ledger: file hashes, batch content hashes, the chain, stray files."

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.verify_ledger()
        if result.ok:
            self.stdout.write(f"ledger OK: {result.batches} batch(es), {result.files} file(s)")
            return
        for problem in result.problems:
            self.stdout.write(str(problem))
        first = result.first_broken
        raise CommandError(
            f"ledger BROKEN: {len(result.problems)} problem(s); "
            + (f"first broken batch #{first}" if first is not None else "no batch named")
        )

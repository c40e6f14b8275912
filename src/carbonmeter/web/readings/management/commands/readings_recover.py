"""``manage.py readings_recover``: finish or undo lake publications a crash interrupted.

Run it when a host starts, before anything reads the lake: committed batches whose files are still in
``_staging/`` are moved into place, staging folders of batches never committed are deleted; an ingest
run's source copy a crash cut short is finished from its whole part file, or listed (ingesting the same
file again attaches it). Every ingest also recovers first, so this is for hosts that read without
ingesting.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from carbonmeter.web.readings import services


class Command(BaseCommand):
    help = "Finish or undo lake publications interrupted by a crash (docs/specs/readings.md)."

    def handle(self, *args: Any, **options: Any) -> None:
        done = services.recover()
        for path in done.rolled_forward:
            self.stdout.write(f"rolled forward {path}")
        for folder in done.rolled_back:
            self.stdout.write(f"rolled back staging folder {folder}")
        for path in done.sums_built:
            self.stdout.write(f"built day sums of {path}")
        self.stdout.write(
            f"recovered: {len(done.rolled_forward)} file(s) forward, {len(done.rolled_back)} folder(s) back, "
            f"day sums built for {len(done.sums_built)} file(s)"
        )
        sources = services.recover_sources()
        for pk in sources.finished:
            self.stdout.write(f"run {pk}: source file copy finished")
        for problem in sources.problems:
            self.stdout.write(str(problem))
        if sources.problems:
            self.stdout.write(
                f"{len(sources.problems)} run(s) without a whole source file: "
                "ingest the same file again to attach it"
            )

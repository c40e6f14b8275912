"""Fixtures for the readings tests."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark for the whole run (starting one takes seconds): a single core, no UI, UTC, one
    shuffle partition (the test lakes are tiny, so Spark's default 200 partitions would only cost time),
    quiet logs. Never skipped: scripts/services installs the Java runtime PySpark needs, and a missing one
    must fail here. Python workers run this interpreter (the venv), not whatever python3 is on the PATH."""
    assert shutil.which("java") or os.environ.get("JAVA_HOME"), "PySpark needs Java (scripts/services)"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    logging.getLogger("py4j").setLevel(logging.ERROR)
    session = (
        SparkSession.builder.master("local[1]")
        .appName("carbonmeter-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=ERROR")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()

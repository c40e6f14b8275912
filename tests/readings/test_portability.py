"""The same aggregation expressions on DuckDB and on PySpark (local mode) give identical results.

This is what lets a regulator who outgrows one machine run ``carbonmeter.readings.aggregate`` on a Spark
cluster: the expressions are built once and compiled by Ibis for each engine. The lakes are the ones of
``test_aggregate.py`` (values are multiples of 1/8, so sums are exact in any order of addition and the
tables are compared for exact equality, no tolerance); each result is also checked against the naive
reference there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonmeter.readings import aggregate as ag
from carbonmeter.readings.engines import READINGS_SCHEMA, duckdb_backend, spark_backend
from tests.readings.test_aggregate import (
    FEB,
    JAN,
    ORG_B,
    Lake,
    Row,
    as_dict,
    as_stream_dict,
    check_against_reference,
    lake_dir,
    lakes,
    queries,
    reference,
    reference_streams,
    run_totals,
    scenario,
    write_lake,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def scenario_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lake(tmp_path_factory.mktemp("portable") / "lake", scenario().rows)


def both(lake_root: Path, spark: SparkSession) -> tuple[Any, Any]:
    """The lake opened on DuckDB and on Spark."""
    return duckdb_backend(lake_root), spark_backend(lake_root, spark)


def assert_identical(a: pa.Table, b: pa.Table) -> None:
    """Same columns, types, rows and order (both come sorted from ``aggregate.to_arrow``)."""
    assert a.schema == b.schema
    assert a.to_pylist() == b.to_pylist()


@pytest.mark.parametrize("period", ["day", "month", "year"])
def test_scenario_identical_on_duckdb_and_spark(
    scenario_lake: Path, spark: SparkSession, period: str
) -> None:
    lake = scenario()
    duck, sp = both(scenario_lake, spark)
    on_duck = run_totals(duck, lake, period=period, with_validity=True)
    on_spark = run_totals(sp, lake, period=period, with_validity=True)
    assert_identical(on_duck, on_spark)
    assert as_dict(on_spark) == reference(lake, period=period, with_validity=True)


def test_month_boundary_on_spark(scenario_lake: Path, spark: SparkSession) -> None:
    """2026-01-31T15:45Z is Jan 31 in Shanghai and 16:00Z is Feb 1, whatever Spark's session zone."""
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")  # Ibis resets it to UTC on connect
    sp = spark_backend(scenario_lake, spark)
    got = as_dict(ag.to_arrow(ag.totals(sp, period="month", org=ORG_B)))
    assert {k[3]: v["total"] for k, v in got.items()} == {JAN: 2.0, FEB: 1.0}


def test_stream_totals_identical(scenario_lake: Path, spark: SparkSession) -> None:
    lake = scenario()
    results = []
    for con in both(scenario_lake, spark):
        expr = ag.stream_totals(
            con, period="month", streams=lake.streams, profiles=lake.profiles, events=lake.events
        )
        results.append(ag.to_arrow(expr))
    assert_identical(*results)
    assert as_stream_dict(results[1]) == reference_streams(lake, period="month")


def test_filters_identical(scenario_lake: Path, spark: SparkSession) -> None:
    lake = scenario()
    query: dict[str, Any] = {
        "period": "day",
        "start": date(2026, 1, 31),
        "end": date(2026, 2, 2),
        "points": ["E1", "R2"],
    }
    duck, sp = both(scenario_lake, spark)
    assert_identical(run_totals(duck, lake, **query), run_totals(sp, lake, **query))


def test_misfiled_and_empty_lakes_on_spark(tmp_path: Path, spark: SparkSession) -> None:
    ts = datetime(2026, 1, 31, 16, 0, tzinfo=UTC)
    rows = [
        Row(ORG_B, "E1", "production", ts, 1.0, 1, part=(2026, 1)),
        Row(ORG_B, "E1", "production", ts - timedelta(minutes=15), 2.0, 1, part=(2026, 1)),
    ]
    sp = spark_backend(write_lake(tmp_path / "lake", rows), spark)
    got = as_dict(ag.to_arrow(ag.totals(sp, period="month")))
    assert {k[3]: v["total"] for k, v in got.items()} == {JAN: 2.0, FEB: 1.0}
    empty = ag.to_arrow(ag.totals(spark_backend(tmp_path / "none", spark), period="month"))
    assert (empty.num_rows, empty.column_names) == (0, list(ag.TOTAL_COLUMNS))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(lake=lakes(), query=queries(), with_validity=st.booleans())
def test_random_lakes_identical_on_spark(
    spark: SparkSession, lake: Lake, query: dict[str, Any], with_validity: bool
) -> None:
    with lake_dir(lake.rows) as root:
        duck, sp = both(root, spark)
        on_spark = check_against_reference(sp, lake, query, with_validity)
        on_duck = run_totals(duck, lake, with_validity=with_validity, **query)
        assert_identical(on_duck, on_spark)


@pytest.mark.parametrize("dialect", ["postgres", "trino", "pyspark", "duckdb"])
def test_the_expressions_compile_for_other_sql_engines(dialect: str) -> None:
    """Documentation of portability: the full expressions (every side table) compile to these dialects."""
    lake = scenario()
    readings = ibis.table(ibis.Schema.from_pyarrow(READINGS_SCHEMA), name="readings")
    for period in ("day", "month", "year"):
        expr = ag.totals(
            readings,
            period=period,
            org="x",
            start=date(2026, 1, 1),
            end=date(2026, 3, 1),
            profiles=lake.profiles,
            events=lake.events,
            validity=lake.validity,
        )
        sql = ibis.to_sql(expr, dialect=dialect)
        assert "readings" in sql
        streams = ag.stream_totals(readings, period=period, streams=lake.streams, profiles=lake.profiles)
        assert "readings" in ibis.to_sql(streams, dialect=dialect)

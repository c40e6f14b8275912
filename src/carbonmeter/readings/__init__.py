"""Metering data: readings, their validation, the Parquet lake, the batch chain and the aggregations.

The contract between the modules is ``docs/specs/readings.md``. Modules marked pure there import no
Django and do no I/O.
"""

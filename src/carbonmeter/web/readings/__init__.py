"""Metering data (读数): batches, the chain, quarantine, point data profiles, counter events (issue 4)."""

"""Ingestion: read a landed file, apply its contract, and load it in one transaction."""

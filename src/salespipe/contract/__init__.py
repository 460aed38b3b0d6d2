"""Contracts: how a source's raw columns become canonical sales lines, and which rows are valid."""

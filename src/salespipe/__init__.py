"""salespipe: a local-first sales analytics pipeline.

Sales exports land in a folder (or S3, or a Kafka event announces them); salespipe
validates every row against a contract, quarantines bad rows with a reason, loads the
rest exactly once into a star-schema warehouse and computes KPIs from it.
"""

__version__ = "0.1.0"

"""Hands-off ingestion: watched folders, polled S3 prefixes, Kafka events and cron schedules.

Every trigger ends in `run_files`, so the ledger keeps each file's load exactly once
whatever fired it, however often.
"""

import threading

# One load at a time per process: watcher, event consumer and schedules share it.
RUN_LOCK = threading.Lock()

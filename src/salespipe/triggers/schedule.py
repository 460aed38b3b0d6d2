"""Cron schedules from salespipe.yaml: run, refresh marts or monitor, each in its time zone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from salespipe.config.model import Config, Schedule
from salespipe.errors import ConfigError, MissingExtraError

log = logging.getLogger("salespipe.schedule")

Job = Callable[[], object]


def cron_trigger(schedule: Schedule, index: int) -> Any:
    try:
        from apscheduler.triggers.cron import CronTrigger
    except ImportError:
        raise MissingExtraError("apscheduler", "watch") from None
    try:
        return CronTrigger.from_crontab(schedule.cron, timezone=schedule.timezone)
    except ValueError as exc:
        raise ConfigError(
            f"schedules[{index}].cron: '{schedule.cron}' is not a cron expression: {exc}",
            key=f"schedules[{index}].cron",
            hint="use five fields: minute hour day month weekday, e.g. '0 2 * * *'",
        ) from None


def next_fire_times(schedule: Schedule, after: datetime, count: int = 3) -> list[datetime]:
    """When a schedule fires next (for `status` and tests)."""
    trigger = cron_trigger(schedule, 0)
    out: list[datetime] = []
    previous = None
    now = after
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        out.append(fire)
        previous, now = fire, fire
    return out


def build_scheduler(config: Config, jobs: dict[str, Job]) -> Any:
    """A background scheduler with one job per configured schedule; not started."""
    try:
        from apscheduler.schedulers.background import BackgroundScheduler
    except ImportError:
        raise MissingExtraError("apscheduler", "watch") from None
    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    )
    for i, schedule in enumerate(config.schedules):
        if schedule.job not in jobs:
            raise ConfigError(
                f"schedules[{i}].job: '{schedule.job}' is not available", key=f"schedules[{i}].job"
            )
        scheduler.add_job(
            _safe(jobs[schedule.job], schedule.job),
            cron_trigger(schedule, i),
            id=f"schedule-{i}-{schedule.job}",
            name=f"{schedule.job} {schedule.cron} {schedule.timezone}",
        )
    return scheduler


def _safe(job: Job, name: str) -> Job:
    def run() -> object:
        try:
            return job()
        except Exception:  # a scheduled job must not kill the scheduler; the run ledger records it
            log.exception("scheduled %s failed", name)
            return None

    return run

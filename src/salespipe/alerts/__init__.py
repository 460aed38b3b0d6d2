"""Alerts: the monitor's findings as one digest per run and channel (Slack, a JSON webhook,
email), routed by severity. New findings, ones that got worse, reminders after the
cooldown and recoveries; a failed delivery is retried with backoff, logged and recorded,
and never fails the pipeline. Stage `alerts` of the flow, right after `monitor`."""

from salespipe.alerts.delivery import DeliveryResult, deliver_alerts
from salespipe.alerts.digest import Digest, DigestItem, build_digest

__all__ = ["DeliveryResult", "Digest", "DigestItem", "build_digest", "deliver_alerts"]

"""Orchestration's settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class OrchestrationSettings:
    """DIGEST_LOCAL_TIME: scheduled editions reach each subscriber at the edition hour of their own
    time zone, in hourly waves per UTC offset (waves.py); off: one send at the newsroom's hour."""

    DIGEST_LOCAL_TIME: bool = True


def settings() -> OrchestrationSettings:
    return room_settings(OrchestrationSettings)

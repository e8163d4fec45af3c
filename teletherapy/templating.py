"""Jinja filters: times are stored in UTC and shown in each user's own time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from .times import page_time


def localtime(
    value: datetime | None, user: object = None, fmt: str = "%a %d %b %Y, %H:%M"
) -> str:
    if value is None:
        return "—"
    try:
        zone = ZoneInfo(getattr(user, "timezone", None) or "UTC")
    except ZoneInfoNotFoundError:
        zone = ZoneInfo("UTC")
    local = value.astimezone(zone)
    return f"{local.strftime(fmt)} {local.tzname()}"


def init_app(app: Flask) -> None:
    app.add_template_filter(page_time, "iso")
    app.add_template_filter(localtime, "localtime")

"""OCPP date-times: lenient parsing (chargers in the field omit zones) and UTC formatting."""

import re
from datetime import datetime, timedelta, timezone

# What nearly every charger sends; the standard library reads it alike, without dateutil's import.
_COMMON = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3}|\.\d{6})?)(Z|[+-]\d\d:\d\d)?")


def parse(text):
    """An aware datetime for an ISO 8601 date-time, or None.

    A time without a zone is taken as UTC; a bare date is not a date-time.
    """
    if not isinstance(text, str) or len(text) < 16 or len(text) > 64:
        return None
    value = _parse_common(text)
    if value is None:
        value = _parse_any(text)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def _parse_common(text):
    match = _COMMON.fullmatch(text)
    if match is None:
        return None
    moment, zone = match.groups()
    try:
        value = datetime.fromisoformat(moment)
    except ValueError:
        return None  # e.g. 24:00, which dateutil reads as the next midnight
    if zone is None:
        return value
    if zone == "Z":
        return value.replace(tzinfo=timezone.utc)
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 23 or minutes > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return value.replace(tzinfo=timezone(-offset if zone[0] == "-" else offset))


def _parse_any(text):
    from dateutil import parser  # the rest of ISO 8601; imported by the few chargers that need it

    try:
        return parser.isoparse(text)
    except (ValueError, OverflowError):
        return None


def format_utc(moment):
    """'2026-11-21T13:52:07.123Z': UTC, milliseconds, as chargers expect."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

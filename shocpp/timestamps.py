"""OCPP date-times: lenient parsing (chargers in the field omit zones) and UTC formatting."""

from datetime import datetime, timezone

from dateutil import parser as _parser


def parse(text):
    """An aware datetime for an ISO 8601 date-time, or None.

    A time without a zone is taken as UTC; a bare date is not a date-time.
    """
    if not isinstance(text, str) or len(text) < 16 or len(text) > 64:
        return None
    try:
        value = _parser.isoparse(text)
    except (ValueError, OverflowError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def format_utc(moment):
    """'2026-11-21T13:52:07.123Z': UTC, milliseconds, as chargers expect."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

"""Settings from the environment, with defaults relative to the install (the directory above bin/)."""

import os
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """An environment variable holds a value shocpp cannot use; the message names it."""


# Named tuples, not dataclasses, here, in schemas and in the core (protocol/plain.py): importing dataclasses
# would be a sixth of shocpp-command's start.
Config = namedtuple("Config", [
    "tags_file", "accounting_dir", "run_dir", "log_dir",   # Path
    "heartbeat_interval",                                    # int, seconds
    "strict",                                                # bool
    "chargers_file", "tls_cert", "tls_key",                  # Path (the TLS ones may be None)
    "max_chargers",                                          # int, 0: no limit (default 100: #24)
    "max_power_kw",                                          # int: more energy in a session is implausible
    "site_file",                                             # Path: site.json, for shocpp-balance
    "tariffs_file",                                          # Path: prices for statements (optional file)
    "site_name",                                             # str: the statements' header
    "operators_file",                                        # Path: the dashboard's operators
    "max_session_kwh",                                       # int: more energy in one session goes to review
])


def from_env(env=None):
    env = os.environ if env is None else env
    return Config(
        tags_file=_path(env, "SHOCPP_TAGSFILE", "conf/tags.json"),
        accounting_dir=_path(env, "SHOCPP_ACCOUNTINGDIR", "accounting"),
        run_dir=_path(env, "SHOCPP_RUNDIR", "run"),
        log_dir=_path(env, "SHOCPP_LOGDIR", "log"),
        heartbeat_interval=_integer(env, "SHOCPP_HEARTBEAT_INTERVAL", 300, 1, 86400),
        strict=_flag(env, "SHOCPP_STRICT"),
        chargers_file=_path(env, "SHOCPP_CHARGERSFILE", "conf/chargers.json"),
        tls_cert=_optional_path(env, "SHOCPP_TLS_CERT"),
        tls_key=_optional_path(env, "SHOCPP_TLS_KEY"),
        max_chargers=_integer(env, "SHOCPP_MAX_CHARGERS", 100, 0, 100000),
        max_power_kw=_integer(env, "SHOCPP_MAX_POWER_KW", 50, 1, 100000),
        site_file=_path(env, "SHOCPP_SITEFILE", "conf/site.json"),
        tariffs_file=_path(env, "SHOCPP_TARIFFSFILE", "conf/tariffs.json"),
        site_name=_site_name(env),
        operators_file=_path(env, "SHOCPP_OPERATORSFILE", "conf/operators.json"),
        max_session_kwh=_integer(env, "SHOCPP_MAX_SESSION_KWH", 200, 1, 100000),
    )


def _site_name(env):
    text = env.get("SHOCPP_SITE_NAME", "").strip()
    if not text:
        return os.uname().nodename
    if not text.isprintable() or len(text) > 200:
        raise ConfigError(f"SHOCPP_SITE_NAME={text[:200]!r} is not one line of at most 200 printable characters")
    return text


def _optional_path(env, name):
    value = env.get(name)
    return Path(value).absolute() if value else None


def _path(env, name, default):
    value = env.get(name) or str(ROOT / default)
    return Path(value).absolute()


def _integer(env, name, default, low, high):
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is outside {low}..{high}")
    return value


def _flag(env, name):
    text = env.get(name, "0").strip().lower()
    if text in ("", "0", "no", "false", "off"):
        return False
    if text in ("1", "yes", "true", "on"):
        return True
    raise ConfigError(f"{name}={text!r} is not 0 or 1")


# The defaults of the bounds below, also for the modules that use them without the environment.
SEEN_MAX_BYTES, SEEN_MAX_FILES = 65536, 1000
LOG_RATE, LOG_MAX_BYTES = 65536, 1 << 30
RECORD_BURST = 1000  # a charger back after a week offline replays its sessions' starts and stops at once

# Bounds on what a client or a charger can make shocpp spend (#24). Each has a safe default that a
# well-behaved charger or operator never reaches; hitting one is logged once and answered.
Limits = namedtuple("Limits", [
    "dashboard_max_forks",   # the dashboard's CGI processes at once (websocketd --maxforks)
    "dashboard_login_rate",  # the dashboard's requests (each a scrypt) a second, all clients together
    "seen_max_bytes",        # run/seen/<identity>.json: at most this size
    "seen_max_files",        # run/seen: at most this many files (the oldest go)
    "log_rate",              # bytes a second one connection may write into the frame log
    "log_max_bytes",         # the frame log's size beyond which nothing more is written until it is rotated
    "record_rate",           # ledger records a connection may write a minute (after RECORD_BURST at once)
])


def limits(env=None):
    env = os.environ if env is None else env
    return Limits(
        dashboard_max_forks=_integer(env, "SHOCPP_DASHBOARD_MAX_FORKS", 16, 1, 10000),
        dashboard_login_rate=_integer(env, "SHOCPP_DASHBOARD_LOGIN_RATE", 5, 1, 10000),
        seen_max_bytes=_integer(env, "SHOCPP_SEEN_MAX_BYTES", SEEN_MAX_BYTES, 1024, 2**30),
        seen_max_files=_integer(env, "SHOCPP_SEEN_MAX_FILES", SEEN_MAX_FILES, 1, 10**6),
        log_rate=_integer(env, "SHOCPP_LOG_RATE", LOG_RATE, 1024, 2**30),
        log_max_bytes=_integer(env, "SHOCPP_LOG_MAX_BYTES", LOG_MAX_BYTES, 2**20, 2**50),
        record_rate=_integer(env, "SHOCPP_RECORD_RATE", 60, 1, 10**6),
    )

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
    "max_chargers",                                          # int, 0: no limit
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
        max_chargers=_integer(env, "SHOCPP_MAX_CHARGERS", 0, 0, 100000),
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

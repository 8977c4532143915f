"""shocpp: a private OCPP 1.6J central system for the chargers of one site."""

__version__ = "0.1.0"

"""shocpp-simulate: OCPP 1.6J chargers in a terminal, to try shocpp without a charger and to load it.

Built on `websockets` only. The runtime package `shocpp` never imports this one.
Pure parts: `meter` (the energy model), `answers` (how the charger answers the
central system's calls), `messages` (the payloads it sends and their readable
lines), `stats`. The I/O is in `charger` (one connection) and `cli`.
"""

"""OCPP 2.0.1: the pure core beside 1.6's, over the same framing (ocppj), effects, ledger records and shell.

`PROTOCOL` is what the Session and the backend need of this version (see protocol/session.py).
"""

from ..session import Protocol
from . import handlers, schemas
from .errors import FORMAT_VIOLATION, MESSAGE_TYPE_NOT_SUPPORTED

PROTOCOL = Protocol("2.0.1", handlers, schemas.SET, FORMAT_VIOLATION, MESSAGE_TYPE_NOT_SUPPORTED)

"""The OCPP 2.0.1 JSON schemas (written by misc/v201_schemas.py), checked like 1.6's (protocol/schemas)."""

from ...schemas import SchemaSet
from ..errors import (FORMAT_VIOLATION, OCCURRENCE_CONSTRAINT_VIOLATION, PROPERTY_CONSTRAINT_VIOLATION,
                      TYPE_CONSTRAINT_VIOLATION)

HERE = __path__[0]

FROM_CHARGER = (
    "Authorize", "BootNotification", "DataTransfer", "FirmwareStatusNotification", "Heartbeat",
    "LogStatusNotification", "MeterValues", "NotifyChargingLimit", "NotifyEvent", "NotifyReport",
    "ReportChargingProfiles", "SecurityEventNotification", "StatusNotification", "TransactionEvent",
)
FROM_CENTRAL = (
    "CancelReservation", "ChangeAvailability", "ClearCache", "ClearChargingProfile", "DataTransfer",
    "GetBaseReport", "GetChargingProfiles", "GetCompositeSchedule", "GetLocalListVersion", "GetLog",
    "GetTransactionStatus", "GetVariables", "RequestStartTransaction", "RequestStopTransaction", "ReserveNow",
    "Reset", "SendLocalList", "SetChargingProfile", "SetVariables", "TriggerMessage", "UnlockConnector",
    "UpdateFirmware",
)

SET = SchemaSet(HERE, FROM_CHARGER, FROM_CENTRAL, OCCURRENCE_CONSTRAINT_VIOLATION, TYPE_CONSTRAINT_VIOLATION,
                PROPERTY_CONSTRAINT_VIOLATION, FORMAT_VIOLATION)
ALL_ACTIONS = SET.all_actions
check, load, outgoing_problem = SET.check, SET.load, SET.outgoing_problem

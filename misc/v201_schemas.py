"""Writes shocpp/protocol/v201/schemas/*.json, the OCPP 2.0.1 payload schemas (Draft 4), from the
message definitions below, taken from the specification's part 2 (messages, datatypes, enumerations).
Run it after changing a definition: `python3 misc/v201_schemas.py`; tests/protocol/test_v201_schemas.py
checks that the files are what it writes.

Every object is closed (additionalProperties false) but for customData, which any object may carry.
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "shocpp" / "protocol" / "v201" / "schemas"


def text(limit):
    return {"type": "string", "maxLength": limit}


INTEGER, NUMBER, BOOLEAN = {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
DATE_TIME = {"type": "string", "format": "date-time"}
ANY = {}


def enum(*values):
    return {"type": "string", "enum": list(values)}


def ref(name):
    return {"$ref": f"#/definitions/{name}"}


def array(item, least=1, most=None):
    schema = {"type": "array", "items": item, "minItems": least}
    if most is not None:
        schema["maxItems"] = most
    return schema


def obj(required=(), **properties):
    """A closed object: its properties (customData added), `required` of them required."""
    schema = {"type": "object", "additionalProperties": False,
              "properties": {"customData": ref("CustomDataType"), **properties}}
    if required:
        schema["required"] = list(required)
    return schema


# The datatypes (part 2, chapter 2), as the messages use them.
TYPES = {
    "CustomDataType": {"type": "object", "properties": {"vendorId": text(255)}, "required": ["vendorId"]},
    "StatusInfoType": obj(["reasonCode"], reasonCode=text(20), additionalInfo=text(512)),
    "AdditionalInfoType": obj(["additionalIdToken", "type"], additionalIdToken=text(36), type=text(50)),
    "IdTokenType": obj(["idToken", "type"], idToken=text(36),
                       type=enum("Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
                                 "NoAuthorization"),
                       additionalInfo=array(ref("AdditionalInfoType"))),
    "MessageContentType": obj(["format", "content"], format=enum("ASCII", "HTML", "URI", "UTF8"),
                              language=text(8), content=text(512)),
    "IdTokenInfoType": obj(["status"],
                           status=enum("Accepted", "Blocked", "ConcurrentTx", "Expired", "Invalid", "NoCredit",
                                       "NotAllowedTypeEVSE", "NotAtThisLocation", "NotAtThisTime", "Unknown"),
                           cacheExpiryDateTime=DATE_TIME, chargingPriority=INTEGER, language1=text(8),
                           evseId=array(INTEGER), groupIdToken=ref("IdTokenType"), language2=text(8),
                           personalMessage=ref("MessageContentType")),
    "EVSEType": obj(["id"], id=INTEGER, connectorId=INTEGER),
    "OCSPRequestDataType": obj(["hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber",
                                "responderURL"],
                               hashAlgorithm=enum("SHA256", "SHA384", "SHA512"), issuerNameHash=text(128),
                               issuerKeyHash=text(128), serialNumber=text(40), responderURL=text(512)),
    "ModemType": obj(iccid=text(20), imsi=text(20)),
    "ChargingStationType": obj(["model", "vendorName"], serialNumber=text(25), model=text(20),
                               modem=ref("ModemType"), vendorName=text(50), firmwareVersion=text(50)),
    "UnitOfMeasureType": obj(unit=text(20), multiplier=INTEGER),
    "SignedMeterValueType": obj(["signedMeterData", "signingMethod", "encodingMethod", "publicKey"],
                                signedMeterData=text(2500), signingMethod=text(50), encodingMethod=text(50),
                                publicKey=text(2500)),
    "SampledValueType": obj(
        ["value"], value=NUMBER,
        context=enum("Interruption.Begin", "Interruption.End", "Other", "Sample.Clock", "Sample.Periodic",
                     "Transaction.Begin", "Transaction.End", "Trigger"),
        measurand=enum("Current.Export", "Current.Import", "Current.Offered", "Energy.Active.Export.Register",
                       "Energy.Active.Import.Register", "Energy.Reactive.Export.Register",
                       "Energy.Reactive.Import.Register", "Energy.Active.Export.Interval",
                       "Energy.Active.Import.Interval", "Energy.Active.Net", "Energy.Reactive.Export.Interval",
                       "Energy.Reactive.Import.Interval", "Energy.Reactive.Net", "Energy.Apparent.Net",
                       "Energy.Apparent.Import", "Energy.Apparent.Export", "Frequency", "Power.Active.Export",
                       "Power.Active.Import", "Power.Factor", "Power.Offered", "Power.Reactive.Export",
                       "Power.Reactive.Import", "SoC", "Voltage"),
        phase=enum("L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"),
        location=enum("Body", "Cable", "EV", "Inlet", "Outlet"),
        signedMeterValue=ref("SignedMeterValueType"), unitOfMeasure=ref("UnitOfMeasureType")),
    "MeterValueType": obj(["sampledValue", "timestamp"], sampledValue=array(ref("SampledValueType")),
                          timestamp=DATE_TIME),
    "TransactionType": obj(
        ["transactionId"], transactionId=text(36),
        chargingState=enum("Charging", "EVConnected", "SuspendedEV", "SuspendedEVSE", "Idle"),
        timeSpentCharging=INTEGER,
        stoppedReason=enum("DeAuthorized", "EmergencyStop", "EnergyLimitReached", "EVDisconnected", "GroundFault",
                           "ImmediateReset", "Local", "LocalOutOfCredit", "MasterPass", "Other",
                           "OvercurrentFault", "PowerLoss", "PowerQuality", "Reboot", "Remote", "SOCLimitReached",
                           "StoppedByEV", "TimeLimitReached", "Timeout"),
        remoteStartId=INTEGER),
    "ComponentType": obj(["name"], evse=ref("EVSEType"), name=text(50), instance=text(50)),
    "VariableType": obj(["name"], name=text(50), instance=text(50)),
    "VariableAttributeType": obj(type=enum("Actual", "Target", "MinSet", "MaxSet"), value=text(2500),
                                 mutability=enum("ReadOnly", "WriteOnly", "ReadWrite"), persistent=BOOLEAN,
                                 constant=BOOLEAN),
    "VariableCharacteristicsType": obj(
        ["dataType", "supportsMonitoring"], unit=text(16),
        dataType=enum("string", "decimal", "integer", "dateTime", "boolean", "OptionList", "SequenceList",
                      "MemberList"),
        minLimit=NUMBER, maxLimit=NUMBER, valuesList=text(1000), supportsMonitoring=BOOLEAN),
    "ReportDataType": obj(["component", "variable", "variableAttribute"], component=ref("ComponentType"),
                          variable=ref("VariableType"),
                          variableAttribute=array(ref("VariableAttributeType"), 1, 4),
                          variableCharacteristics=ref("VariableCharacteristicsType")),
    "EventDataType": obj(
        ["eventId", "timestamp", "trigger", "actualValue", "eventNotificationType", "component", "variable"],
        eventId=INTEGER, timestamp=DATE_TIME, trigger=enum("Alerting", "Delta", "Periodic"), cause=INTEGER,
        actualValue=text(2500), techCode=text(50), techInfo=text(500), cleared=BOOLEAN, transactionId=text(36),
        component=ref("ComponentType"), variableMonitoringId=INTEGER,
        eventNotificationType=enum("HardWiredNotification", "HardWiredMonitor", "PreconfiguredMonitor",
                                   "CustomMonitor"),
        variable=ref("VariableType")),
    "ChargingSchedulePeriodType": obj(["startPeriod", "limit"], startPeriod=INTEGER, limit=NUMBER,
                                      numberPhases=INTEGER, phaseToUse=INTEGER),
    "CostType": obj(["costKind", "amount"],
                    costKind=enum("CarbonDioxideEmission", "RelativePricePercentage", "RenewableGenerationPercentage"),
                    amount=INTEGER, amountMultiplier=INTEGER),
    "ConsumptionCostType": obj(["startValue", "cost"], startValue=NUMBER, cost=array(ref("CostType"), 1, 3)),
    "RelativeTimeIntervalType": obj(["start"], start=INTEGER, duration=INTEGER),
    "SalesTariffEntryType": obj(["relativeTimeInterval"], relativeTimeInterval=ref("RelativeTimeIntervalType"),
                                ePriceLevel=INTEGER, consumptionCost=array(ref("ConsumptionCostType"), 1, 3)),
    "SalesTariffType": obj(["id", "salesTariffEntry"], id=INTEGER, salesTariffDescription=text(32),
                           numEPriceLevels=INTEGER, salesTariffEntry=array(ref("SalesTariffEntryType"), 1, 1024)),
    "ChargingScheduleType": obj(["id", "chargingRateUnit", "chargingSchedulePeriod"], id=INTEGER,
                                startSchedule=DATE_TIME, duration=INTEGER, chargingRateUnit=enum("W", "A"),
                                chargingSchedulePeriod=array(ref("ChargingSchedulePeriodType"), 1, 1024),
                                minChargingRate=NUMBER, salesTariff=ref("SalesTariffType")),
    "ChargingProfileType": obj(
        ["id", "stackLevel", "chargingProfilePurpose", "chargingProfileKind", "chargingSchedule"],
        id=INTEGER, stackLevel=INTEGER,
        chargingProfilePurpose=enum("ChargingStationExternalConstraints", "ChargingStationMaxProfile",
                                    "TxDefaultProfile", "TxProfile"),
        chargingProfileKind=enum("Absolute", "Recurring", "Relative"), recurrencyKind=enum("Daily", "Weekly"),
        validFrom=DATE_TIME, validTo=DATE_TIME, transactionId=text(36),
        chargingSchedule=array(ref("ChargingScheduleType"), 1, 3)),
    "ChargingLimitType": obj(["chargingLimitSource"], chargingLimitSource=enum("EMS", "Other", "SO", "CSO"),
                             isGridCritical=BOOLEAN),
    "ClearChargingProfileType": obj(
        evseId=INTEGER,
        chargingProfilePurpose=enum("ChargingStationExternalConstraints", "ChargingStationMaxProfile",
                                    "TxDefaultProfile", "TxProfile"),
        stackLevel=INTEGER),
    "CompositeScheduleType": obj(["evseId", "duration", "scheduleStart", "chargingRateUnit",
                                  "chargingSchedulePeriod"],
                                 chargingSchedulePeriod=array(ref("ChargingSchedulePeriodType")), evseId=INTEGER,
                                 duration=INTEGER, scheduleStart=DATE_TIME, chargingRateUnit=enum("W", "A")),
    "GetVariableDataType": obj(["component", "variable"], attributeType=enum("Actual", "Target", "MinSet", "MaxSet"),
                               component=ref("ComponentType"), variable=ref("VariableType")),
    "GetVariableResultType": obj(
        ["attributeStatus", "component", "variable"],
        attributeStatus=enum("Accepted", "Rejected", "UnknownComponent", "UnknownVariable",
                             "NotSupportedAttributeType"),
        attributeStatusInfo=ref("StatusInfoType"), attributeType=enum("Actual", "Target", "MinSet", "MaxSet"),
        attributeValue=text(2500), component=ref("ComponentType"), variable=ref("VariableType")),
    "SetVariableDataType": obj(["attributeValue", "component", "variable"],
                               attributeType=enum("Actual", "Target", "MinSet", "MaxSet"), attributeValue=text(1000),
                               component=ref("ComponentType"), variable=ref("VariableType")),
    "SetVariableResultType": obj(
        ["attributeStatus", "component", "variable"], attributeType=enum("Actual", "Target", "MinSet", "MaxSet"),
        attributeStatus=enum("Accepted", "Rejected", "UnknownComponent", "UnknownVariable",
                             "NotSupportedAttributeType", "RebootRequired"),
        attributeStatusInfo=ref("StatusInfoType"), component=ref("ComponentType"), variable=ref("VariableType")),
    "LogParametersType": obj(["remoteLocation"], remoteLocation=text(512), oldestTimestamp=DATE_TIME,
                             latestTimestamp=DATE_TIME),
    "FirmwareType": obj(["location", "retrieveDateTime"], location=text(512), retrieveDateTime=DATE_TIME,
                        installDateTime=DATE_TIME, signingCertificate=text(5500), signature=text(800)),
    "AuthorizationData": obj(["idToken"], idToken=ref("IdTokenType"), idTokenInfo=ref("IdTokenInfoType")),
    "ChargingProfileCriterionType": obj(
        chargingProfilePurpose=enum("ChargingStationExternalConstraints", "ChargingStationMaxProfile",
                                    "TxDefaultProfile", "TxProfile"),
        stackLevel=INTEGER, chargingProfileId=array(INTEGER),
        chargingLimitSource=array(enum("EMS", "Other", "SO", "CSO"), 1, 4)),
}


def status(*values):
    """The usual confirmation: a status of `values` and an optional statusInfo."""
    return obj(["status"], status=enum(*values), statusInfo=ref("StatusInfoType"))


EMPTY = obj()
ACCEPTED_REJECTED = status("Accepted", "Rejected")

# Messages a charging station sends: (request, confirmation).
FROM_CHARGER = {
    "Authorize": (
        obj(["idToken"], idToken=ref("IdTokenType"), certificate=text(5500),
            iso15118CertificateHashData=array(ref("OCSPRequestDataType"), 1, 4)),
        obj(["idTokenInfo"], idTokenInfo=ref("IdTokenInfoType"),
            certificateStatus=enum("Accepted", "SignatureError", "CertificateExpired", "CertificateRevoked",
                                   "NoCertificateAvailable", "CertChainError", "ContractCancelled"))),
    "BootNotification": (
        obj(["chargingStation", "reason"], chargingStation=ref("ChargingStationType"),
            reason=enum("ApplicationReset", "FirmwareUpdate", "LocalReset", "PowerUp", "RemoteReset",
                        "ScheduledReset", "Triggered", "Unknown", "Watchdog")),
        obj(["currentTime", "interval", "status"], currentTime=DATE_TIME, interval=INTEGER,
            status=enum("Accepted", "Pending", "Rejected"), statusInfo=ref("StatusInfoType"))),
    "DataTransfer": (
        obj(["vendorId"], messageId=text(50), data=ANY, vendorId=text(255)),
        obj(["status"], status=enum("Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"),
            statusInfo=ref("StatusInfoType"), data=ANY)),
    "FirmwareStatusNotification": (
        obj(["status"], status=enum("Downloaded", "DownloadFailed", "Downloading", "DownloadScheduled",
                                    "DownloadPaused", "Idle", "InstallationFailed", "Installing", "Installed",
                                    "InstallRebooting", "InstallScheduled", "InstallVerificationFailed",
                                    "InvalidSignature", "SignatureVerified"),
            requestId=INTEGER),
        EMPTY),
    "Heartbeat": (EMPTY, obj(["currentTime"], currentTime=DATE_TIME)),
    "LogStatusNotification": (
        obj(["status"], status=enum("BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied", "Uploaded",
                                    "UploadFailure", "Uploading", "AcceptedCanceled"),
            requestId=INTEGER),
        EMPTY),
    "MeterValues": (obj(["evseId", "meterValue"], evseId=INTEGER, meterValue=array(ref("MeterValueType"))), EMPTY),
    "NotifyChargingLimit": (
        obj(["chargingLimit"], chargingSchedule=array(ref("ChargingScheduleType")), evseId=INTEGER,
            chargingLimit=ref("ChargingLimitType")),
        EMPTY),
    "NotifyEvent": (
        obj(["generatedAt", "seqNo", "eventData"], generatedAt=DATE_TIME, tbc=BOOLEAN, seqNo=INTEGER,
            eventData=array(ref("EventDataType"))),
        EMPTY),
    "NotifyReport": (
        obj(["requestId", "generatedAt", "seqNo"], requestId=INTEGER, generatedAt=DATE_TIME,
            reportData=array(ref("ReportDataType")), tbc=BOOLEAN, seqNo=INTEGER),
        EMPTY),
    "ReportChargingProfiles": (
        obj(["requestId", "chargingLimitSource", "chargingProfile", "evseId"], requestId=INTEGER,
            chargingLimitSource=enum("EMS", "Other", "SO", "CSO"), chargingProfile=array(ref("ChargingProfileType")),
            tbc=BOOLEAN, evseId=INTEGER),
        EMPTY),
    "SecurityEventNotification": (
        obj(["type", "timestamp"], type=text(50), timestamp=DATE_TIME, techInfo=text(255)), EMPTY),
    "StatusNotification": (
        obj(["timestamp", "connectorStatus", "evseId", "connectorId"], timestamp=DATE_TIME,
            connectorStatus=enum("Available", "Occupied", "Reserved", "Unavailable", "Faulted"), evseId=INTEGER,
            connectorId=INTEGER),
        EMPTY),
    "TransactionEvent": (
        obj(["eventType", "timestamp", "triggerReason", "seqNo", "transactionInfo"],
            eventType=enum("Ended", "Started", "Updated"), meterValue=array(ref("MeterValueType")),
            timestamp=DATE_TIME,
            triggerReason=enum("Authorized", "CablePluggedIn", "ChargingRateChanged", "ChargingStateChanged",
                               "Deauthorized", "EnergyLimitReached", "EVCommunicationLost", "EVConnectTimeout",
                               "MeterValueClock", "MeterValuePeriodic", "TimeLimitReached", "Trigger",
                               "UnlockCommand", "StopAuthorized", "EVDeparted", "EVDetected", "RemoteStop",
                               "RemoteStart", "AbnormalCondition", "SignedDataReceived", "ResetCommand"),
            seqNo=INTEGER, offline=BOOLEAN, numberOfPhasesUsed=INTEGER, cableMaxCurrent=INTEGER,
            reservationId=INTEGER, transactionInfo=ref("TransactionType"), evse=ref("EVSEType"),
            idToken=ref("IdTokenType")),
        obj(totalCost=NUMBER, chargingPriority=INTEGER, idTokenInfo=ref("IdTokenInfoType"),
            updatedPersonalMessage=ref("MessageContentType"))),
}

PURPOSES = ("ChargingStationExternalConstraints", "ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile")

# Messages the CSMS sends (those shocpp-command can route): (request, confirmation).
FROM_CENTRAL = {
    "CancelReservation": (obj(["reservationId"], reservationId=INTEGER), ACCEPTED_REJECTED),
    "ChangeAvailability": (
        obj(["operationalStatus"], evse=ref("EVSEType"), operationalStatus=enum("Inoperative", "Operative")),
        status("Accepted", "Rejected", "Scheduled")),
    "ClearCache": (EMPTY, ACCEPTED_REJECTED),
    "ClearChargingProfile": (
        obj(chargingProfileId=INTEGER, chargingProfileCriteria=ref("ClearChargingProfileType")),
        status("Accepted", "Unknown")),
    "DataTransfer": FROM_CHARGER["DataTransfer"],
    "GetBaseReport": (
        obj(["requestId", "reportBase"], requestId=INTEGER,
            reportBase=enum("ConfigurationInventory", "FullInventory", "SummaryInventory")),
        status("Accepted", "Rejected", "NotSupported", "EmptyResultSet")),
    "GetChargingProfiles": (
        obj(["requestId", "chargingProfile"], requestId=INTEGER, evseId=INTEGER,
            chargingProfile=ref("ChargingProfileCriterionType")),
        status("Accepted", "NoProfiles")),
    "GetCompositeSchedule": (
        obj(["duration", "evseId"], duration=INTEGER, chargingRateUnit=enum("W", "A"), evseId=INTEGER),
        obj(["status"], status=enum("Accepted", "Rejected"), statusInfo=ref("StatusInfoType"),
            schedule=ref("CompositeScheduleType"))),
    "GetLocalListVersion": (EMPTY, obj(["versionNumber"], versionNumber=INTEGER)),
    "GetLog": (
        obj(["log", "logType", "requestId"], log=ref("LogParametersType"),
            logType=enum("DiagnosticsLog", "SecurityLog"), requestId=INTEGER, retries=INTEGER,
            retryInterval=INTEGER),
        obj(["status"], status=enum("Accepted", "Rejected", "AcceptedCanceled"), statusInfo=ref("StatusInfoType"),
            filename=text(255))),
    "GetTransactionStatus": (
        obj(transactionId=text(36)),
        obj(["messagesInQueue"], ongoingIndicator=BOOLEAN, messagesInQueue=BOOLEAN)),
    "GetVariables": (
        obj(["getVariableData"], getVariableData=array(ref("GetVariableDataType"))),
        obj(["getVariableResult"], getVariableResult=array(ref("GetVariableResultType")))),
    "RequestStartTransaction": (
        obj(["idToken", "remoteStartId"], evseId=INTEGER, groupIdToken=ref("IdTokenType"),
            idToken=ref("IdTokenType"), remoteStartId=INTEGER, chargingProfile=ref("ChargingProfileType")),
        obj(["status"], status=enum("Accepted", "Rejected"), statusInfo=ref("StatusInfoType"),
            transactionId=text(36))),
    "RequestStopTransaction": (obj(["transactionId"], transactionId=text(36)), ACCEPTED_REJECTED),
    "ReserveNow": (
        obj(["id", "expiryDateTime", "idToken"], id=INTEGER, expiryDateTime=DATE_TIME,
            connectorType=enum("cCCS1", "cCCS2", "cG105", "cTesla", "cType1", "cType2", "s309-1P-16A",
                               "s309-1P-32A", "s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7", "sType2",
                               "sType3", "Other1PhMax16A", "Other1PhOver16A", "Other3Ph", "Pan", "wInductive",
                               "wResonant", "Undetermined", "Unknown"),
            idToken=ref("IdTokenType"), evseId=INTEGER, groupIdToken=ref("IdTokenType")),
        status("Accepted", "Faulted", "Occupied", "Rejected", "Unavailable")),
    "Reset": (obj(["type"], type=enum("Immediate", "OnIdle"), evseId=INTEGER),
              status("Accepted", "Rejected", "Scheduled")),
    "SendLocalList": (
        obj(["versionNumber", "updateType"], localAuthorizationList=array(ref("AuthorizationData")),
            versionNumber=INTEGER, updateType=enum("Differential", "Full")),
        status("Accepted", "Failed", "VersionMismatch")),
    "SetChargingProfile": (
        obj(["evseId", "chargingProfile"], evseId=INTEGER, chargingProfile=ref("ChargingProfileType")),
        ACCEPTED_REJECTED),
    "SetVariables": (
        obj(["setVariableData"], setVariableData=array(ref("SetVariableDataType"))),
        obj(["setVariableResult"], setVariableResult=array(ref("SetVariableResultType")))),
    "TriggerMessage": (
        obj(["requestedMessage"], evse=ref("EVSEType"),
            requestedMessage=enum("BootNotification", "LogStatusNotification", "FirmwareStatusNotification",
                                  "Heartbeat", "MeterValues", "SignChargingStationCertificate",
                                  "SignV2GCertificate", "StatusNotification", "TransactionEvent",
                                  "SignCombinedCertificate", "PublishFirmwareStatusNotification")),
        status("Accepted", "Rejected", "NotImplemented")),
    "UnlockConnector": (
        obj(["evseId", "connectorId"], evseId=INTEGER, connectorId=INTEGER),
        status("Unlocked", "UnlockFailed", "OngoingAuthorizedTransaction", "UnknownConnector")),
    "UpdateFirmware": (
        obj(["requestId", "firmware"], retries=INTEGER, retryInterval=INTEGER, requestId=INTEGER,
            firmware=ref("FirmwareType")),
        status("Accepted", "Rejected", "AcceptedCanceled", "InvalidCertificate", "RevokedCertificate")),
}


def used(schema, found):
    """The names of the definitions `schema` refers to, directly or not, added to `found`."""
    if isinstance(schema, dict):
        name = schema.get("$ref", "").rpartition("/")[2]
        if name and name not in found:
            found.add(name)
            used(TYPES[name], found)
        for value in schema.values():
            used(value, found)
    elif isinstance(schema, list):
        for value in schema:
            used(value, found)
    return found


def document(action, kind, schema):
    names = used(schema, set())
    full = {"$schema": "http://json-schema.org/draft-04/schema#", "title": f"{action} {kind} (OCPP 2.0.1)", **schema}
    if names:
        full["definitions"] = {name: TYPES[name] for name in sorted(names)}
    return json.dumps(full, indent=1, sort_keys=True) + "\n"


def files():
    """{file name: its text}."""
    found = {}
    for messages in (FROM_CHARGER, FROM_CENTRAL):
        for action, pair in messages.items():
            for kind, schema in zip(("req", "conf"), pair):
                found[f"{action}.{kind}.json"] = document(action, kind, schema)
    return found


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, content in files().items():
        (OUT / name).write_text(content)
    print(f"wrote {len(files())} schemas in {OUT}", file=sys.stderr)

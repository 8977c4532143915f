"""The CALLERROR codes of OCPP-J 2.0.1 (part 4), spelled as 2.0.1 spells them: FormatViolation and
OccurrenceConstraintViolation, where 1.6 has FormationViolation and OccurenceConstraintViolation."""

FORMAT_VIOLATION = "FormatViolation"
GENERIC_ERROR = "GenericError"
INTERNAL_ERROR = "InternalError"
MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
NOT_IMPLEMENTED = "NotImplemented"
NOT_SUPPORTED = "NotSupported"
OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
PROTOCOL_ERROR = "ProtocolError"
RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
SECURITY_ERROR = "SecurityError"
TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
ERROR_CODES = (
    FORMAT_VIOLATION, GENERIC_ERROR, INTERNAL_ERROR, MESSAGE_TYPE_NOT_SUPPORTED, NOT_IMPLEMENTED, NOT_SUPPORTED,
    OCCURRENCE_CONSTRAINT_VIOLATION, PROPERTY_CONSTRAINT_VIOLATION, PROTOCOL_ERROR, RPC_FRAMEWORK_ERROR,
    SECURITY_ERROR, TYPE_CONSTRAINT_VIOLATION,
)

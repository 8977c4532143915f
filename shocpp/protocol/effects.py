"""What the protocol asks the shell to do, besides sending frames: one family, carried out by
`backend.apply`, in order."""

from .plain import plain


class Record(plain("Record", ["month", "record", "refusal"])):
    """Append a ledger record (a session's start or stop). The step's replies may go out only once it
    is durable; if it cannot be made durable, `refusal` (a CallError) goes out instead, and the
    charger retries."""
    __slots__ = ()


class SaveBoot(plain("SaveBoot", ["payload"])):
    __slots__ = ()


class SaveStatus(plain("SaveStatus", ["connector_id", "payload"])):
    __slots__ = ()


class SaveMeterValues(plain("SaveMeterValues", ["connector_id", "payload"])):
    __slots__ = ()


class SaveRefusal(plain("SaveRefusal", ["payload"])):
    """Keep the latest tag refused to an Authorize ({"idTag", "status"}): what the MQTT bridge tells."""
    __slots__ = ()


class Deliver(plain("Deliver", ["request_id", "answer"])):
    """Hand the answer to a call from shocpp-command back to the command that is waiting for it."""
    __slots__ = ()


class Unavailable(Exception):
    """Raised by what the shell lends the Session (the ledger's records) when it cannot be read: the
    charger gets InternalError with this message, and retries."""


class Step(plain("Step", ["replies", "effects", "notes", "errors"], defaults=((), (), (), ()))):
    """What one event (a line from the charger, a command, the clock) comes to: the frames for the
    charger in order, the effects, lines for the log, and lines the operator must see (stderr too)."""
    __slots__ = ()

    def __add__(self, other):
        return Step(self.replies + other.replies, self.effects + other.effects, self.notes + other.notes,
                    self.errors + other.errors)

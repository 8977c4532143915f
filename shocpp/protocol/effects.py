"""What the protocol asks the shell to do, besides sending frames: one family, carried out by
`backend.apply`, in order."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    """Append a ledger record (a session's start or stop). The step's replies may go out only once it is durable; if it cannot
    be made durable, `refusal` goes out instead, and the charger retries."""
    month: str
    record: dict
    refusal: object  # the CallError frame


@dataclass(frozen=True)
class SaveBoot:
    payload: dict


@dataclass(frozen=True)
class SaveStatus:
    connector_id: int
    payload: dict


@dataclass(frozen=True)
class SaveMeterValues:
    connector_id: int
    payload: dict


@dataclass(frozen=True)
class Deliver:
    """Hand the answer to a call from shocpp-command back to the command that is waiting for it."""
    request_id: str
    answer: dict


class Unavailable(Exception):
    """Raised by what the shell lends the Session (the ledger's records) when it cannot be read: the
    charger gets InternalError with this message, and retries."""


@dataclass(frozen=True)
class Step:
    """What one event (a line from the charger, a command, the clock) comes to."""
    replies: tuple = ()   # frames for the charger, in order
    effects: tuple = ()
    notes: tuple = ()     # lines for the log
    errors: tuple = ()    # lines for the log that the operator must see (stderr too)

    def __add__(self, other):
        return Step(self.replies + other.replies, self.effects + other.effects, self.notes + other.notes,
                    self.errors + other.errors)

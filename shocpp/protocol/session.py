"""One charger connection's protocol, h11-style: events in, one Step out for each.

The Session holds all that a connection knows and decides everything: what a line is and what
answers it, which of shocpp-command's calls goes to the charger next, when a command has waited
too long. The shell only moves bytes and carries out the effects. The clocks come in as
arguments: `now`, an aware datetime, for replies and records; `mono`, monotonic seconds, for the
deadlines of commands.
"""

from . import handlers, ocppj, schemas
from .effects import Deliver, Step, Unavailable
from .ocppj import FORMATION_VIOLATION, INTERNAL_ERROR, Call, CallError
from .outbox import Outbox
from .plain import plain
from .reassembly import Reassembly

MAX_COMMAND_TIMEOUT = 3600


class Protocol(plain("Protocol", ["version", "handlers", "schemas", "format_violation", "unknown_type"])):
    """What differs between protocol versions, for the Session: the handlers module (handle, Context,
    NEEDS_TAGS), the SchemaSet our calls are checked against, the code a malformed frame gets, and
    the code of a frame with an unknown message type (None: ignored, as 1.6 asks)."""
    __slots__ = ()


V16 = Protocol("1.6", handlers, schemas.V16, FORMATION_VIOLATION, None)


class Session:
    def __init__(self, charger, new_id, tz=None, heartbeat_interval=300, strict=False, max_power_kw=50,
                 max_session_wh=200_000, charger_listed=False, protocol=V16):
        self.charger = charger
        self.protocol = protocol
        self.max_session_wh = max_session_wh
        self.charger_listed = charger_listed  # in chargers.json: a stop without its start may be trusted
        self.tz = tz  # the site's zone for ledger months; None: the machine's
        self.heartbeat_interval = heartbeat_interval
        self.strict = strict
        self.max_power_kw = max_power_kw
        self.outbox = Outbox(new_id)
        self.lines = Reassembly()

    def receive(self, line, now, mono, tags=None, records=None, starts=None):
        """The Step for one line from the charger.

        `tags()` gives the current Tags; it is called only for the actions that look tags up, so the
        shell reads tags.json only for those. `records(month, tid, charger=None)` gives the ledger's
        records of a month ('YYYY-MM') that concern the transactionId (or the charger, when given),
        oldest first, for a StopTransaction to find its start; `starts(month, record)` the start record a
        StartTransaction retransmits (handlers.Context). A line that begins a frame split over lines is held and
        answered with the line that ends it (reassembly.py).
        """
        frames = self.lines.receive(line, mono)
        if len(frames) == 1:
            return self._on_frame(frames[0], now, mono, tags, records, starts)
        return sum((self._on_frame(frame, now, mono, tags, records, starts) for frame in frames), Step())

    def finish(self):
        """The Step at end of input: a held fragment is given up."""
        return _given_up(self.lines.finish(), self.protocol.format_violation)

    def _on_frame(self, frame, now, mono, tags, records, starts=None):
        if isinstance(frame, Call):
            return self._answer(frame, now, tags, records, starts)
        if isinstance(frame, ocppj.Malformed):
            return _malformed(frame, self.protocol.format_violation)
        if isinstance(frame, ocppj.Ignored):
            if self.protocol.unknown_type and frame.unique_id is not None:
                return Step(replies=(CallError(frame.unique_id, self.protocol.unknown_type,
                                               f"message type {frame.message_type!r} is not 2, 3 or 4", {}),))
            return Step(notes=(f"ignored: message type {frame.message_type!r} is not 2, 3 or 4",))
        actions = self.outbox.on_answer(frame, mono)
        if actions is None:
            return Step(notes=(f"ignored: answer {frame.unique_id!r} matches no call of ours",))
        return _step(actions)

    def command(self, request_id, request, mono):
        """The Step for a call from shocpp-command: its request {"action", "payload", "timeout"}."""
        try:
            action, payload, timeout = request["action"], request["payload"], float(request["timeout"])
        except (KeyError, TypeError, ValueError) as e:
            return Step(notes=(f"command {request_id} ignored: {e!r}",))
        problem = self.protocol.schemas.outgoing_problem(action, payload)
        if problem or not 0 < timeout <= MAX_COMMAND_TIMEOUT:
            return Step(effects=(Deliver(request_id, {"status": "refused", "message": problem or "bad timeout"}),))
        queued = Step(notes=(f"command {request_id}: {action} queued",))
        return queued + _step(self.outbox.submit(request_id, action, payload, mono + timeout, mono))

    def tick(self, mono):
        """The Step once the monotonic clock reached `mono`: timeouts, and the next call to send."""
        return _given_up(self.lines.tick(mono), self.protocol.format_violation) + _step(self.outbox.tick(mono))

    def next_deadline(self):
        """The monotonic time of the next tick that can change anything, or None."""
        deadlines = [d for d in (self.outbox.next_deadline(), self.lines.next_deadline()) if d is not None]
        return min(deadlines, default=None)

    def _answer(self, call, now, tags, records, starts=None):
        try:
            protocol = self.protocol.handlers
            current = tags() if tags is not None and call.action in protocol.NEEDS_TAGS else None
            context = handlers.Context(self.charger, current, now, self.tz, self.heartbeat_interval, self.strict,
                                       records, self.max_power_kw, self.max_session_wh, self.charger_listed,
                                       starts)
            outcome = protocol.handle(call, context)
        except Unavailable as e:
            return Step(replies=(CallError(call.unique_id, INTERNAL_ERROR, str(e), {}),),
                        errors=(f"{call.action} {call.unique_id!r} not confirmed, the charger will retry: {e}",))
        except Exception:
            import traceback  # seldom needed, and every start would pay for it
            return Step(replies=(CallError(call.unique_id, INTERNAL_ERROR, "the central system failed", {}),),
                        errors=(f"{call.action} {call.unique_id!r} failed: {traceback.format_exc()}",))
        return Step((outcome.reply,), outcome.effects, outcome.notes)


def _malformed(frame, code):
    if frame.unique_id is not None:
        return Step(replies=(CallError(frame.unique_id, code, frame.reason, {}),))
    return Step(notes=(f"dropped: {frame.reason}",))


def _given_up(frames, code):
    return sum((_malformed(frame, code) for frame in frames), Step())


def _step(actions):
    """The Step for the outbox's actions: its CALLs go to the charger, its answers to the commands."""
    return Step(replies=tuple(a for a in actions if isinstance(a, Call)),
                effects=tuple(a for a in actions if isinstance(a, Deliver)))

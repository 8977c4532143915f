"""Calls from the central system to the charger, one outstanding at a time (OCPP-J 1.6, 4.1.1).

Pure: requests come in with their deadline, and each method returns what to
do, in order: a CALL to send to the charger, or the Deliver effect of an answer.
"""

from collections import deque

from .effects import Deliver
from .ocppj import Call, CallError
from .plain import plain


class _Request(plain("_Request", ["request_id", "action", "payload", "deadline", "unique_id"], defaults=(None,))):
    """A command's call; its unique_id once it is sent."""
    __slots__ = ()


def answer_of(frame):
    """The answer a command gets for the charger's CALLRESULT or CALLERROR."""
    if isinstance(frame, CallError):
        return {"status": "error", "code": frame.code, "description": frame.description,
                "details": frame.details}
    return {"status": "result", "payload": frame.payload}


TIMEOUT = {"status": "timeout"}


class Outbox:
    def __init__(self, new_id):
        self.new_id = new_id
        self.queue = deque()
        self.current = None

    def submit(self, request_id, action, payload, deadline, now):
        self.queue.append(_Request(request_id, action, payload, deadline))
        return self._next(now)

    def on_answer(self, frame, now):
        """Actions for a CALLRESULT/CALLERROR; None when it answers no call of ours."""
        if self.current is None or frame.unique_id != self.current.unique_id:
            return None
        done, self.current = self.current, None
        return [Deliver(done.request_id, answer_of(frame))] + self._next(now)

    def tick(self, now):
        """Actions once the clock reached `now`: timeouts, and the next call to send."""
        actions = []
        if self.current is not None and now >= self.current.deadline:
            actions.append(Deliver(self.current.request_id, TIMEOUT))
            self.current = None
        return actions + self._next(now)

    def next_deadline(self):
        deadlines = [r.deadline for r in self.queue] + ([self.current.deadline] if self.current else [])
        return min(deadlines, default=None)

    def _next(self, now):
        actions = []
        while self.current is None and self.queue:
            request = self.queue.popleft()
            if now >= request.deadline:
                actions.append(Deliver(request.request_id, TIMEOUT))  # its command has given up
                continue
            request = self.current = request._replace(unique_id=self.new_id())
            actions.append(Call(request.unique_id, request.action, request.payload))
        return actions

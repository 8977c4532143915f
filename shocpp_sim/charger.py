"""One simulated charger: its WebSocket connection, its CALLs and its charging sessions.

OCPP-J rules kept here: one outstanding CALL at a time from the charger (`call`
holds a lock until the answer or the timeout), while the central system's CALLs
are answered at once by the reader, also while the charger's own CALL waits.
What the answers are is decided by the pure `answers.answer`; what is sent by the
pure `messages`; how much energy by the pure `meter`.
"""

import asyncio
import base64
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Optional

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from . import answers, messages, meter
from .answers import CONNECTOR


class CallError(Exception):
    def __init__(self, code, description=""):
        super().__init__(f"{code}: {description}")
        self.code, self.description = code, description


class ConnectionLost(Exception):
    pass


class CallTimeout(Exception):
    pass


@dataclass
class Options:
    url: str                         # the full URL, identity included
    identity: str
    password: Optional[str] = None   # HTTP Basic auth, the identity as user name
    ssl: object = None               # an SSLContext for wss://, or None
    heartbeat: Optional[float] = None  # seconds; None: what the BootNotification answer says
    tag: str = "1111"
    sessions: int = 0
    session_seconds: float = 10
    power: float = 11000
    meter_interval: float = 60
    pause: float = 1
    time_scale: float = 1
    meter_start: int = 12_345_678
    timeout: float = 30
    phases: int = 3                  # the phases it is wired for; a profile's numberPhases may use fewer
    report_current: bool = True      # Current.Import per phase in MeterValues
    ignore_profiles: bool = False    # accept every charging profile and draw --power all the same
    reject_tx_default: bool = False  # answer Rejected to a TxDefaultProfile (a TxProfile is taken)
    rate_unit: Optional[str] = None  # "A" or "W": the only chargingRateUnit it takes


class Output:
    """Readable lines on stdout and problems on stderr, shared by the chargers of a run."""

    def __init__(self, quiet=False, out=None, err=None, quiet_problems=10):
        self.quiet, self.quiet_problems, self.problems = quiet, quiet_problems, 0
        self.out, self.err = out or sys.stdout, err or sys.stderr

    def line(self, identity, arrow, text):
        if not self.quiet:
            print(f"{time.strftime('%H:%M:%S')} {identity} {arrow} {text}", file=self.out, flush=True)

    def problem(self, identity, text):
        self.problems += 1
        if not self.quiet or self.problems <= self.quiet_problems:
            print(f"{time.strftime('%H:%M:%S')} {identity} ! {text}", file=self.err, flush=True)
        elif self.problems == self.quiet_problems + 1:
            print("shocpp-simulate: further problems are only counted", file=self.err, flush=True)


class Session:
    def __init__(self, tag, remote, length=None):
        self.tag, self.remote = tag, remote
        self.length = None if length is None else meter.exact(length)
        self.stop, self.reason = asyncio.Event(), None
        self.transaction_id = self.meter = self.t0 = None
        self.begin_wh = self.begin_ts = None
        self.clock = None  # (the reported time, the loop's time) when the session's clock was set

    def request_stop(self, reason):
        if self.reason is None:
            self.reason = reason
        self.stop.set()


async def first(*things):
    """Wait until one of the tasks, futures or events is done or set; those that are."""
    waiters = {}
    for thing in things:
        waiters[asyncio.ensure_future(thing.wait()) if isinstance(thing, asyncio.Event) else thing] = thing
    try:
        done, _ = await asyncio.wait(list(waiters), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter, thing in waiters.items():
            if waiter is not thing:
                waiter.cancel()
    return {waiters[w] for w in done}


async def wait_event(event, timeout):
    """True if the event is set within timeout seconds (None: no limit)."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
        return True
    except asyncio.TimeoutError:
        return False


def _g(number):
    return f"{number:g}"


class Charger:
    SUBPROTOCOL = "ocpp1.6"
    ANSWER = staticmethod(answers.answer)  # how it answers the central system's CALLs

    def __init__(self, options, stats, output):
        self.o, self.stats, self.output = options, stats, output
        self.id = options.identity
        config = answers.default_config(_g(options.heartbeat or 300), _g(options.meter_interval), options.rate_unit)
        self.state = answers.State(config=config, authorization_key=options.password,
                                   ignore_profiles=options.ignore_profiles,
                                   reject_tx_default=options.reject_tx_default, rate_unit=options.rate_unit)
        self.register = meter.exact(options.meter_start)  # the lifetime energy register, Wh
        self.status_of = {0: "Available", CONNECTOR: "Available"}  # as last reported
        self.ws = None
        self.lock = asyncio.Lock()       # one outstanding CALL
        self.pending = None              # (unique id, future) of the CALL waiting for its answer
        self.counter = 0
        self.online = asyncio.Event()    # connected and booted
        self.gone = asyncio.Event()      # will not connect again
        self.reboot = asyncio.Event()
        self.reboot_hard = False
        self.config_changed = asyncio.Event()
        self.sessions_done = asyncio.Event()
        self.session = self.session_task = None
        self.stopping = self.ever_booted = False
        self.tasks = set()

    # -- output ---------------------------------------------------------------------------------

    def line(self, arrow, text):
        self.output.line(self.id, arrow, text)

    def problem(self, text):
        self.stats.errors += 1
        self.output.problem(self.id, text)

    def spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # -- the connection -------------------------------------------------------------------------

    async def run(self, stop):
        """Connect, boot, reconnect after a loss or a reset, until `stop` is set or it gives up."""
        program = self.spawn(self.program()) if self.o.sessions > 0 else None
        if program is None:
            self.sessions_done.set()
        backoff = 1
        try:
            while not stop.is_set():
                try:
                    ws = await self.connect()
                except (OSError, InvalidHandshake, InvalidURI, asyncio.TimeoutError) as e:
                    self.problem(f"cannot connect to {self.o.url}: {e or type(e).__name__}")
                    if not self.ever_booted:
                        return
                    outcome = "lost"
                else:
                    outcome = await self.connected(ws, stop)
                if outcome in ("stop", "fatal") or (outcome == "lost" and not self.ever_booted):
                    return
                if outcome == "reboot":
                    delay, backoff = (2 if self.reboot_hard else 0.5), 1
                else:
                    delay, backoff = backoff, min(backoff * 2, 30)
                if await wait_event(stop, delay):
                    return
        finally:
            self.gone.set()
            self.online.clear()
            if self.session is not None and self.session.transaction_id is not None:
                self.problem(f"transaction {self.session.transaction_id} left open: no connection to stop it")
            for task in list(self.tasks):
                task.cancel()
            self.sessions_done.set()

    async def connect(self):
        headers = {}
        if self.state.authorization_key is not None:
            token = base64.b64encode(f"{self.id}:{self.state.authorization_key}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        extra = {"ssl": self.o.ssl} if self.o.ssl is not None else {}
        self.line("·", f"connecting to {self.o.url}" + ("" if self.SUBPROTOCOL == "ocpp1.6" else f" ({self.SUBPROTOCOL})"))
        ws = await connect(self.o.url, subprotocols=[self.SUBPROTOCOL], additional_headers=headers, open_timeout=10,
                           compression=None, **extra)
        if ws.subprotocol != self.SUBPROTOCOL:
            self.line("·", f"the server did not confirm the subprotocol {self.SUBPROTOCOL} (it said {ws.subprotocol!r})")
        return ws

    async def connected(self, ws, stop):
        """Boot on a new connection and serve it; 'stop', 'lost', 'reboot' or 'fatal'."""
        self.ws = ws
        self.reboot.clear()
        reader = asyncio.ensure_future(self.read(ws))
        heartbeat = None
        try:
            up = asyncio.ensure_future(self.come_up())
            done = await first(up, reader, stop)
            if up not in done:
                up.cancel()
                return "stop" if stop in done else self.lost(ws)
            try:
                up.result()
            except ConnectionLost:
                return self.lost(ws)
            except CallTimeout:
                return "lost"
            except CallError:
                return "fatal"
            heartbeat = asyncio.ensure_future(self.heartbeats())
            self.online.set()
            done = await first(reader, stop, self.reboot)
            if stop in done and reader not in done:
                await self.shut_down()
                return "stop"
            if reader in done:
                return self.lost(ws)
            return "reboot"
        finally:
            self.online.clear()
            if heartbeat is not None:
                heartbeat.cancel()
            await ws.close()
            try:
                await asyncio.wait_for(reader, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
            self.ws = None

    def lost(self, ws):
        closed = f" (close code {ws.close_code}{': ' + ws.close_reason if ws.close_reason else ''})" \
            if ws.close_code else ""
        if self.ever_booted:
            self.problem(f"the connection was lost{closed}; reconnecting")
        else:
            self.problem(f"the central system closed the connection before answering BootNotification{closed}: "
                         "is the charger allowed (identity, --password)?")
        return "lost"

    async def come_up(self):
        """BootNotification until Accepted, then the status of the charger and its connector."""
        await self.boot()
        self.ever_booted = True
        for connector in (0, CONNECTOR):
            await self.send_status(connector, self.current_status(connector))

    async def shut_down(self):
        """Stop a running session (reason Other) before the connection closes."""
        self.stopping = True
        if self.session is not None:
            self.session.request_stop("Other")
        if self.session_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self.session_task), self.o.timeout + 5)
            except (asyncio.TimeoutError, asyncio.CancelledError, ConnectionLost, CallTimeout, CallError):
                pass

    async def read(self, ws):
        try:
            async for raw in ws:
                try:
                    await self.on_frame(ws, raw)
                except ConnectionClosed:
                    raise
                except Exception as e:  # a bug here must not take the connection down
                    self.problem(f"failed to handle {str(raw)[:80]!r}: {type(e).__name__}: {e}")
        except ConnectionClosed:
            pass
        finally:
            self.online.clear()
            if self.pending is not None and not self.pending[1].done():
                self.pending[1].set_exception(ConnectionLost())

    async def on_frame(self, ws, raw):
        try:
            frame = json.loads(raw)
        except ValueError:
            self.problem(f"not JSON from the central system: {str(raw)[:80]!r}")
            return
        if not (isinstance(frame, list) and len(frame) >= 3 and frame[0] in (2, 3, 4) and isinstance(frame[1], str)):
            self.problem(f"not an OCPP-J frame from the central system: {str(raw)[:80]!r}")
            return
        if frame[0] == 2:
            if len(frame) != 4 or not isinstance(frame[2], str):
                self.problem(f"a malformed CALL from the central system: {str(raw)[:80]!r}")
                await ws.send(json.dumps([4, frame[1], "FormationViolation", "a CALL has 4 elements", {}]))
                return
            await self.on_call(ws, frame[1], frame[2], frame[3])
        elif self.pending is not None and self.pending[0] == frame[1] and not self.pending[1].done():
            self.pending[1].set_result(frame)
        else:
            self.line("·", f"ignored an answer to no waiting CALL: {str(raw)[:80]}")

    async def on_call(self, ws, unique_id, action, payload):
        """Answer a CALL of the central system now; carry out what follows after the answer is sent."""
        self.stats.received += 1
        self.line("←", messages.describe_call(action, payload))
        session = self.session
        if session is not None and session.t0 is not None:
            self.settle(session)  # the energy so far, at the power in force so far
        power_before = self.charging_power(session)
        try:
            reply = self.ANSWER(self.state, action, payload)
        except Exception as e:
            reply = answers.Answer(self.state, error=("InternalError", f"{type(e).__name__}: {e}"))
        self.state = reply.state
        if reply.error:
            frame = [4, unique_id, reply.error[0], reply.error[1], {}]
            self.line("→", f"CALLERROR {reply.error[0]}: {reply.error[1]}")
        else:
            frame = [3, unique_id, reply.payload]
            self.line("→", messages.describe_result(action, reply.payload))
        await ws.send(json.dumps(frame, ensure_ascii=False))
        if session is not None and session.t0 is not None and self.charging_power(session) != power_before:
            self.line("·", f"charging power now {messages.watts(self.charging_power(session))} W")
        for effect in reply.effects:
            self.spawn(self.carry_out(effect))

    async def carry_out(self, effect):
        try:
            if isinstance(effect, answers.StartSession):
                await self.run_session(effect.id_tag, remote=True)
            elif isinstance(effect, answers.StopSession):
                if self.session is not None:
                    self.session.request_stop(effect.reason)
            elif isinstance(effect, answers.Reboot):
                await self.restart(effect.hard)
            elif isinstance(effect, answers.Send):
                await self.send_triggered(effect.message, effect.connector_id)
            elif isinstance(effect, answers.ConfigChanged):
                if effect.key == "HeartbeatInterval":
                    self.config_changed.set()
                elif effect.key == answers.WRITE_ONLY:
                    self.line("·", "new AuthorizationKey: used from the next connection")
        except (ConnectionLost, CallTimeout, CallError):
            pass  # reported where it happened

    async def restart(self, hard):
        """Reset: stop a running session, then reconnect and boot again (after a pause for a hard one)."""
        self.line("·", f"{'hard' if hard else 'soft'} reset: stopping a running session, then reconnecting")
        if self.session is not None:
            self.session.request_stop("HardReset" if hard else "SoftReset")
        if self.session_task is not None:
            await asyncio.wait([self.session_task])
        self.reboot_hard = hard
        self.reboot.set()

    # -- CALLs to the central system ------------------------------------------------------------

    async def call(self, action, payload):
        """Send one CALL and wait for its answer (one at a time); the CALLRESULT payload."""
        async with self.lock:
            ws = self.ws
            if ws is None:
                raise ConnectionLost()
            self.counter += 1
            unique_id = str(self.counter)
            future = asyncio.get_running_loop().create_future()
            self.pending = (unique_id, future)
            self.line("→", messages.describe_call(action, payload))
            began = time.perf_counter()
            try:
                await ws.send(json.dumps([2, unique_id, action, payload], ensure_ascii=False))
                self.stats.sent += 1
                frame = await asyncio.wait_for(future, self.o.timeout)
            except ConnectionClosed:
                raise ConnectionLost() from None
            except asyncio.TimeoutError:
                self.problem(f"no answer to {action} within {self.o.timeout:g} s")
                raise CallTimeout() from None
            finally:
                self.pending = None
        if frame[0] == 3:
            self.stats.answered += 1
            self.stats.round_trips.append(time.perf_counter() - began)
            result = frame[2]
            self.line("←", messages.describe_result(action, result))
            if not isinstance(result, dict):
                self.problem(f"the answer to {action} is not an object")
                raise CallError("FormationViolation", "not an object")
            return result
        code = frame[2]
        description = frame[3] if len(frame) > 3 else ""
        self.line("←", f"CALLERROR {code}: {description}")
        self.problem(f"{action} answered with CALLERROR {code}: {description}")
        raise CallError(code, description)

    async def wait_online(self):
        while not self.online.is_set():
            if self.gone.is_set() or self.stopping:
                raise ConnectionLost()
            await first(self.online, self.gone)

    async def call_tx(self, action, payload):
        """A transaction message: kept until it is delivered, after reconnecting if need be
        (and tried 3 times when the central system answers InternalError)."""
        failures = 0
        while True:
            await self.wait_online()
            try:
                return await self.call(action, payload)
            except ConnectionLost:
                continue
            except CallError as e:
                failures += 1
                if e.code != "InternalError" or failures >= 3:
                    raise
                await asyncio.sleep(2)

    async def boot(self):
        while True:
            answer = await self.call("BootNotification", self.boot_payload())
            interval = answer.get("interval")
            usable = isinstance(interval, int) and not isinstance(interval, bool) and interval > 0
            if usable and self.o.heartbeat is None:
                self.state = replace(self.state, config={**self.state.config, "HeartbeatInterval": str(interval)})
                self.config_changed.set()
            if answer.get("status") == "Accepted":
                return
            await asyncio.sleep(interval if usable else 10)  # Pending or Rejected: try again later

    def boot_payload(self):
        return messages.boot_notification(self.id)

    async def heartbeats(self):
        while True:
            self.config_changed.clear()
            interval = self.state.interval("HeartbeatInterval")
            if await wait_event(self.config_changed, interval if interval > 0 else None):
                continue
            try:
                await self.call("Heartbeat", {})
            except (CallError, CallTimeout):
                pass
            except ConnectionLost:
                return

    def current_status(self, connector):
        """The status to report now: a session's (Preparing, Charging, Finishing), else Available or Unavailable."""
        if connector == CONNECTOR and self.session is not None:
            return self.status_of[CONNECTOR]
        return answers.connector_status(self.state)

    def stamp(self, session=None):
        """The time of a transaction message: the real time, except during a session under --time-scale X,
        when it runs X times as fast, set back at the session's start so that a session of
        --session-seconds ends at the real time: the central system sees the power it charged with
        (6 s at X 600: an hour, 11 kWh at 11 kW), never a time to come."""
        real = datetime.now(timezone.utc)
        if session is None or session.clock is None:
            return messages.timestamp(real)
        began, at = session.clock
        reported = began + timedelta(seconds=(asyncio.get_running_loop().time() - at) * self.o.time_scale)
        return messages.timestamp(min(reported, real))

    def set_clock(self, session):
        length = float(session.length if session.length is not None else self.o.session_seconds)
        began = datetime.now(timezone.utc) - timedelta(seconds=(self.o.time_scale - 1) * length)
        session.clock = (began, asyncio.get_running_loop().time())

    async def send_status(self, connector, status):
        self.status_of[connector] = status
        await self.call("StatusNotification", messages.status_notification(connector, status, messages.timestamp()))

    async def send_triggered(self, message, connector):
        if message == "BootNotification":
            await self.boot()
        elif message == "Heartbeat":
            await self.call("Heartbeat", {})
        elif message == "MeterValues":
            await self.send_meter_values(self.session, "Trigger")
        elif message == "StatusNotification":
            for c in (0, CONNECTOR) if connector is None else (connector,):
                await self.send_status(c, self.current_status(c))

    async def send_meter_values(self, session, context):
        """MeterValues now: a periodic sample has its meter at the tick already, a triggered one by the clock."""
        charging = session is not None and session.t0 is not None
        if charging and context != "Sample.Periodic":
            self.settle(session)
        register = session.meter.wh if charging else int(self.register)
        power = self.charging_power(session) if charging else 0
        tid = session.transaction_id if charging else None
        phases = self.phases_in_use(session) if self.o.report_current else None
        await self.call("MeterValues", messages.meter_values(register, power, self.stamp(session), tid, context,
                                                             phases=phases))

    # -- sessions -------------------------------------------------------------------------------

    def phases_in_use(self, session):
        """The phases it charges on: its own, or fewer when the profile's numberPhases says so."""
        wanted = answers.phases_allowed(self.state.profiles, session.transaction_id if session else None)
        return self.o.phases if wanted is None or self.o.ignore_profiles else min(wanted, self.o.phases)

    def charging_power(self, session):
        """The power drawn now, W: --power, or less when a charging profile limits it (amperes x 230 V x
        the profile's numberPhases)."""
        if session is None:
            return Fraction(0)
        limit = answers.power_limit_w(self.state.profiles, session.transaction_id, self.o.ignore_profiles)
        power = meter.exact(self.o.power)
        return max(Fraction(0), power if limit is None else min(power, limit))

    def settle(self, session, at=None):
        """Bring the session's meter to `at` seconds of charging (default: now, by the clock)."""
        if at is None:
            elapsed = asyncio.get_running_loop().time() - session.t0
            at = Fraction(round(elapsed * 1000), 1000)
            if session.length is not None:
                at = min(at, session.length)
        session.meter = meter.advance(session.meter, at, self.charging_power(session))

    async def program(self):
        """The --sessions RFID sessions, one after the other, whenever the connector is free."""
        try:
            for number in range(1, self.o.sessions + 1):
                if number > 1:
                    await asyncio.sleep(self.o.pause)
                while True:
                    await self.wait_online()
                    if not self.state.busy and self.state.operative:
                        break
                    await asyncio.sleep(0.2)
                self.state = replace(self.state, busy=True)
                self.line("·", f"session {number} of {self.o.sessions}: tag {self.o.tag} presented")
                await self.spawn(self.run_session(self.o.tag, remote=False, length=self.o.session_seconds))
        except ConnectionLost:
            pass
        finally:
            self.sessions_done.set()

    async def run_session(self, tag, remote, length=None):
        """Preparing, (Authorize,) StartTransaction, Charging with MeterValues, StopTransaction,
        Finishing, Available. The connector is busy until the end."""
        session = Session(tag, remote, length)
        self.session, self.session_task = session, asyncio.current_task()
        try:
            if await self.transaction(session):
                await self.send_status(CONNECTOR, "Finishing")
            self.state = replace(self.state, transaction_id=None,
                                 profiles=tuple(p for p in self.state.profiles if p.purpose != "TxProfile"))
            if self.state.inoperative_scheduled:
                self.state = replace(self.state, operative=False, inoperative_scheduled=False)
            await self.send_status(CONNECTOR, answers.connector_status(self.state))
        except (ConnectionLost, CallTimeout, CallError):
            pass  # reported where it happened
        finally:
            if session.meter is not None:
                self.register = session.meter.register
            self.session = self.session_task = None
            self.state = replace(self.state, busy=False, transaction_id=None)

    async def transaction(self, session):
        """The transaction of a session; True if one was started (and stopped)."""
        await self.send_status(CONNECTOR, "Preparing")
        if not session.remote and not await self.authorized(session.tag):
            return False
        if session.stop.is_set():
            return False
        session.meter = meter.start(self.register, self.o.time_scale)
        self.set_clock(session)
        session.begin_wh, session.begin_ts = session.meter.wh, self.stamp(session)
        status = await self.start_transaction(session)
        if status is None:
            return False
        self.state = replace(self.state, transaction_id=session.transaction_id)
        if status != "Accepted":
            self.problem(f"tag {session.tag} was not accepted ({status}): stopping transaction "
                         f"{session.transaction_id}")
            session.request_stop("DeAuthorized")
        else:
            await self.send_status(CONNECTOR, "Charging")
            session.t0 = asyncio.get_running_loop().time()
            await self.charge(session)
        await self.stop_transaction(session)
        return True

    async def authorized(self, tag):
        answer = await self.call("Authorize", {"idTag": tag})
        status = (answer.get("idTagInfo") or {}).get("status")
        if status != "Accepted":
            self.problem(f"tag {tag} was not accepted ({status}): no session")
        return status == "Accepted"

    async def start_transaction(self, session):
        """StartTransaction: the session's transactionId set, and its tag's status; None without a
        usable transactionId."""
        started = await self.call_tx("StartTransaction",
                                     messages.start_transaction(session.tag, session.begin_wh, session.begin_ts))
        tid = started.get("transactionId")
        if not isinstance(tid, int) or isinstance(tid, bool):
            self.problem(f"StartTransaction answered without a usable transactionId: {tid!r}")
            return None
        session.transaction_id = tid
        return (started.get("idTagInfo") or {}).get("status")

    async def charge(self, session):
        """MeterValues every MeterValueSampleInterval until the session's length or a stop."""
        loop = asyncio.get_running_loop()
        last_tick = Fraction(0)
        while True:
            interval = meter.exact(self.state.config["MeterValueSampleInterval"])
            tick = last_tick + interval if interval > 0 else None
            end = session.length
            target = min(t for t in (tick, end) if t is not None) if (tick, end) != (None, None) else None
            timeout = None if target is None else max(0.0, float(session.t0 + target) - loop.time())
            if await wait_event(session.stop, timeout):
                self.settle(session)
                return
            session.meter = meter.advance(session.meter, target, self.charging_power(session))
            if target == end:
                session.request_stop("Local")
                return
            last_tick = tick
            try:
                await self.send_meter_values(session, "Sample.Periodic")
            except (ConnectionLost, CallTimeout, CallError):
                pass  # the register goes on; the next sample or the StopTransaction carries it

    async def stop_transaction(self, session):
        payload = messages.stop_transaction(session.transaction_id, session.tag, session.meter.wh,
                                            self.stamp(session), session.reason or "Local",
                                            session.begin_wh, session.begin_ts)
        try:
            await self.call_tx("StopTransaction", payload)
        except ConnectionLost:
            self.problem(f"transaction {session.transaction_id} not stopped: no connection")
            raise
        self.stats.sessions += 1

"""The backend websocketd starts for each charger: OCPP-J frames on stdin, replies on stdout.

The I/O shell around the protocol's Session: it moves lines in and frames out, and carries out
each Step's effects in order, the ledger first: no confirmation goes out before its line is on disk.
"""

import os
import selectors
import signal
import sys
import time
from datetime import datetime, timezone

from . import config as config_module
from . import ledger, runfiles
from .log import Log
from .rate import Budget
from .protocol import identity, ocppj, timestamps
from .protocol.effects import Deliver, Record, SaveBoot, SaveMeterValues, SaveRefusal, SaveStatus
from .protocol.linebuffer import LineBuffer
from .protocol.session import Session
from .protocol.tags import TagsError
from .tags_file import TagsFile

SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}  # by SHOCPP_OCPP_VERSION, which the listener sets
READ_SIZE = 65536
LOOPBACK = ("127.0.0.1", "::1")
RELEASE_LINGER_S = 0.03


def now_utc():
    return datetime.now(timezone.utc)


class Backend:
    def __init__(self, config, charger, log, write, connection, tags_file, clock=now_utc, tz=None,
                 record_rate=config_module.limits({}).record_rate, monotonic=time.monotonic, protocol=None):
        self.config = config
        # Ledger records a minute, after a first RECORD_BURST: what a real charger never reaches, and
        # what keeps a flood of distinct StartTransactions from growing the month's file without end.
        self.record_budget = Budget(record_rate / 60, config_module.RECORD_BURST, monotonic)
        self.record_rate, self.over_record_rate = record_rate, False
        self.log = log
        self.write = write
        self.connection = connection
        self.tags_file = tags_file
        self.clock = clock
        # A connection past authentication with a chargers file is of a charger listed in it.
        self.session = Session(charger, lambda: os.urandom(16).hex(), tz, config.heartbeat_interval,
                               config.strict, config.max_power_kw, config.max_session_kwh * 1000,
                               config.chargers_file.exists(), **({"protocol": protocol} if protocol else {}))
        self.unsaved = {}  # run file name -> its latest content
        self.samples = {}  # connector -> the running session's power samples kept (shocpp.samples)

    def on_lines(self, lines, end=False):
        """Answer a batch of frames (what one read brought): the ledger at once, frame by frame; the
        run files once for the batch, as they hold only the latest state; then the replies, together.
        `end`: the batch is the last, and a frame still waiting for its next line is given up."""
        replies = []
        for line in lines:
            self.log.incoming(line)
            step = self.session.receive(line, self.clock(), time.monotonic(), self.tags, self.records, self.starts)
            replies += self.apply(step)
            self.note_unknown(line)
        if end:
            replies += self.apply(self.session.finish())
        self.write_run_files()
        self.send(replies)

    def on_line(self, line):
        self.on_lines([line])

    def on_command(self, line):
        """A request id from the commands FIFO: its request, read from the request file, to the session."""
        request_id = line.decode("ascii", "replace").strip()
        try:
            request = runfiles.read_request(self.config.run_dir, request_id)
        except (OSError, ValueError) as e:
            self.log.note(f"command {printable_id(request_id)} ignored: {e}")
            return
        self.send(self.apply(self.session.command(request_id, request, time.monotonic())))

    def tick(self):
        self.send(self.apply(self.session.tick(time.monotonic())))

    def seconds_to_deadline(self):
        deadline = self.session.next_deadline()
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def tags(self):
        tags, problem = self.tags_file.current()
        if problem:
            self.log.error(problem)
        return tags

    def records(self, month, tid, charger=None):
        return ledger.records(self.config.accounting_dir, month, tid, charger)

    def starts(self, month, record):
        return ledger.retransmitted_start(self.config.accounting_dir, month, record)

    def apply(self, step):
        """Log the step's notes and carry out its effects, in order; the frames to send."""
        for note in step.notes:
            self.log.note(note)
        for error in step.errors:
            self.log.error(error)
        replies = step.replies
        for effect in step.effects:
            if isinstance(effect, Record):
                if not self.record_budget.take():
                    replies = (self.over_rate(effect),)
                elif not self.record(effect):
                    replies = (effect.refusal,)
                else:
                    self.over_record_rate = False
            elif isinstance(effect, Deliver):
                self.deliver(effect)
            else:
                self.save(effect)
        return list(replies)

    def record(self, effect):
        """Append the record; False, logged, when it could not be made durable."""
        try:
            written = ledger.append(self.config.accounting_dir, effect.month, effect.record)
        except ledger.LedgerError as e:
            self.log.error(f"not confirmed, the charger will retry: {e}")
            return False
        what = "recorded" if written else "already recorded (retransmission), not written again"
        self.log.note(f"{what}: {describe(effect.record)} in {effect.month}.jsonl")
        return True

    def over_rate(self, effect):
        """The CALLERROR for a record over SHOCPP_RECORD_RATE: not written, the charger retries it later;
        logged when the refusals begin."""
        if not self.over_record_rate:
            self.log.error(f"over SHOCPP_RECORD_RATE ({self.record_rate} ledger records a minute): records "
                           f"refused with CALLERROR GenericError until it slows down (the charger retries them)")
        self.over_record_rate = True
        return effect.refusal._replace(code=ocppj.GENERIC_ERROR,
                                       description="too many transaction messages: try again later")

    def deliver(self, effect):
        try:
            delivered = runfiles.deliver(self.config.run_dir, effect.request_id, effect.answer)
        except OSError as e:  # a command's broken files must not cost the charger its connection
            self.log.error(f"command {effect.request_id}: cannot hand over the answer: {e}")
            return
        self.log.note(f"command {effect.request_id}: {effect.answer['status']}"
                      + ("" if delivered else " (the command is gone)"))

    def save(self, effect):
        received = {"received_at": timestamps.format_utc(self.clock())}
        if isinstance(effect, SaveBoot):
            self.connection.info.update(boot=effect.payload, booted_at=received["received_at"])
            self.unsaved[runfiles.INFO] = self.connection.info
        elif isinstance(effect, SaveStatus):
            self.unsaved[f"status-{effect.connector_id}.json"] = {**received, **effect.payload}
        elif isinstance(effect, SaveMeterValues):
            self.unsaved[f"meter-{effect.connector_id}.json"] = {**received, **effect.payload}
            self.keep_sample(effect, received["received_at"])
        elif isinstance(effect, SaveRefusal):
            self.unsaved[runfiles.REFUSED] = {**received, **effect.payload}
            self.note_card(effect.payload.get("idTag"), "refused")

    def note_unknown(self, line):
        """An unknown card met in a frame, kept for the dashboard (unknown_tags.met; a refused 1.6
        Authorize comes as SaveRefusal)."""
        from . import unknown_tags
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        if any(action in text for action in unknown_tags.ACTIONS):
            found = unknown_tags.met(text, self.tags_file.value)  # as just answered: no second look at the file
            if found is not None:
                self.note_card(*found)

    def note_card(self, tag, outcome):
        from . import unknown_tags
        tags = self.tags_file.value
        if not isinstance(tag, str) or tags is None or tags.lookup(tag) is not None:
            return
        try:
            unknown_tags.note(self.config.run_dir, tag, self.connection.identity, self.clock(), outcome)
        except OSError as e:
            self.log.error(f"cannot keep the unknown card: {e}")

    def keep_sample(self, effect, received_at):
        """The transaction's power, kept for the dashboard's chart (shocpp.samples)."""
        tx = effect.payload.get("transactionId")
        if tx is None or effect.connector_id == 0:
            return
        from .tools.status import meter_readings  # at the first MeterValues, not at start-up
        from . import samples
        power = meter_readings(effect.payload).power_w
        if power is None:
            return
        sample = {"t": received_at, "w": float(power), "transaction_id": tx}
        try:
            self.samples[effect.connector_id] = samples.add(self.config.run_dir, self.connection.identity,
                                                            effect.connector_id, sample,
                                                            self.samples.get(effect.connector_id))
        except OSError as e:
            self.log.error(f"cannot keep the power sample: {e}")

    def write_run_files(self):
        for name, data in self.unsaved.items():
            try:
                self.connection.save(name, data)
            except OSError as e:
                self.log.error(f"cannot save {name} under {self.connection.path}: {e}")
        self.unsaved.clear()

    def send(self, frames):
        lines = [ocppj.encode(frame) for frame in frames]
        for line in lines:
            self.log.outgoing(line)
        if lines:
            self.write("".join(line + "\n" for line in lines).encode("utf-8"))


def describe(record):
    """A ledger record in a few words, for the log."""
    if record.get("event") == "start":
        return (f"start of transaction {record['transaction_id']} account {record['account']} "
                f"connector {record['connector_id']} at {record['meter_start_wh']} Wh")
    flags = f" flags {' '.join(record['flags'])}" if record["flags"] else ""
    return (f"stop of transaction {record['transaction_id']} account {record['account']} "
            f"{record['energy_wh']} Wh{flags}")


class Termination:
    """SIGTERM ends the backend between batches of frames, never inside one (say, between a ledger
    write and its fsync): the charger then gets either the confirmation or nothing, and retries."""

    def __init__(self):
        self.busy = False
        self.requested = False

    def handler(self, *_):
        if not self.busy:
            raise SystemExit(0)
        self.requested = True

    def __enter__(self):
        self.busy = True

    def __exit__(self, *_):
        self.busy = False
        if self.requested:
            raise SystemExit(0)


TERMINATION = Termination()


def printable_id(text):
    return repr(text[:40])


def serve(backend, stdin_fd=0, commands_fd=None):
    """Answer the charger's lines from stdin and pass on commands from the FIFO, until EOF on stdin."""
    frames, commands = LineBuffer(ocppj.MAX_STOP_LINE), LineBuffer(256)
    with selectors.PollSelector() as selector:  # epoll refuses a regular file as stdin
        selector.register(stdin_fd, selectors.EVENT_READ)
        if commands_fd is not None:
            selector.register(commands_fd, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select(backend.seconds_to_deadline()):
                if key.fd == stdin_fd and not _read_frames(backend, stdin_fd, frames):
                    return
                if key.fd == commands_fd:
                    for line in commands.feed(_read_some(commands_fd)):
                        with TERMINATION:
                            backend.on_command(line)
            with TERMINATION:
                backend.tick()


def _read_some(fd):
    try:
        return os.read(fd, READ_SIZE)
    except BlockingIOError:
        return b""


def _read_frames(backend, fd, buffer):
    data = os.read(fd, READ_SIZE)
    with TERMINATION:
        backend.on_lines(buffer.feed(data) if data else buffer.rest(), end=not data)
    return bool(data)


def write_all(fd):
    def write(data):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    return write


def version(env):
    """The OCPP version this backend speaks: SHOCPP_OCPP_VERSION (1.6 when unset)."""
    return env.get("SHOCPP_OCPP_VERSION") or "1.6"


def protocol_of(env):
    """The Session's Protocol for the version; 2.0.1's core is imported only by its backends."""
    if version(env) == "2.0.1":
        from .protocol.v201 import PROTOCOL
        return PROTOCOL
    return None


def accepts_subprotocol(env):
    if "GATEWAY_INTERFACE" not in env:
        return True
    offered = env.get("HTTP_SEC_WEBSOCKET_PROTOCOL", "")
    return SUBPROTOCOLS.get(version(env)) in (p.strip() for p in offered.split(","))


def remote_addr(env):
    """The charger's address: the front's X-Forwarded-For when the listener started this backend behind
    its HAProxy (which sets that header itself) and the connection came from loopback; else REMOTE_ADDR."""
    forwarded = env.get("HTTP_X_FORWARDED_FOR")
    if env.get("SHOCPP_FRONT") == "1" and forwarded and env.get("REMOTE_ADDR") in LOOPBACK:
        return forwarded.rpartition(",")[2].strip()[:64]
    return env.get("REMOTE_ADDR")


def parse_args(argv):
    import argparse

    parser = argparse.ArgumentParser(
        prog="shocpp-backend",
        description="Serve one OCPP 1.6J (or, with SHOCPP_OCPP_VERSION=2.0.1, 2.0.1) charger: frames on stdin, replies on stdout, one per line. "
                    "websocketd starts it for each connection (see shocpp-listener); run by hand it "
                    "serves whatever stdin holds, e.g. "
                    "echo '[2,\"1\",\"Heartbeat\",{}]' | bin/shocpp-backend",
        epilog="The charger's identity comes from PATH_INFO (the URL path). Settings: SHOCPP_TAGSFILE, "
               "SHOCPP_ACCOUNTINGDIR, SHOCPP_RUNDIR, SHOCPP_LOGDIR, SHOCPP_HEARTBEAT_INTERVAL, SHOCPP_STRICT, SHOCPP_MAX_POWER_KW.")
    return parser.parse_args(argv)


def main(argv=None, env=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv:  # websocketd passes none; argparse is for --help, and costs every start a little
        parse_args(argv)
    env = os.environ if env is None else env
    try:
        config = config_module.from_env(env)
        limits = config_module.limits(env)
    except config_module.ConfigError as e:
        print(f"shocpp-backend: {e}", file=sys.stderr)
        return 2
    try:
        charger = identity.from_path(env.get("PATH_INFO", ""))
    except identity.BadIdentity as e:
        Log(config.log_dir, "?").error(f"connection from {remote_addr(env) or '?'} refused: {e}")
        return 1
    log = Log(config.log_dir, charger, rate=limits.log_rate, max_bytes=limits.log_max_bytes)
    if version(env) not in SUBPROTOCOLS:
        log.error(f"SHOCPP_OCPP_VERSION={version(env)!r} is not one of {', '.join(SUBPROTOCOLS)}")
        return 2
    if not accepts_subprotocol(env):
        log.error(f"connection from {remote_addr(env) or '?'} refused: it did not ask for the subprotocol "
                  f"{SUBPROTOCOLS[version(env)]} (offered: {env.get('HTTP_SEC_WEBSOCKET_PROTOCOL', 'none')!r})")
        return 1
    problem = authentication_problem(config, charger, env, log)
    if problem:
        log.error(f"connection from {remote_addr(env) or '?'} refused: {problem}")
        return 1
    from .last_good import LastGood
    try:
        tags_file = TagsFile(config.tags_file, LastGood(config.run_dir, "tags.json"))
    except TagsError as e:
        log.error(f"connection refused: {e}")
        return 1
    if tags_file.problem:
        log.error(tags_file.problem)
    return run(config, charger, log, tags_file, env)


def authentication_problem(config, charger, env, log=None):
    """Why the charger may not connect (Security Profile 1), or None. No chargers file: no check.
    A broken chargers file lets nobody in that its last good copy would not: that copy is used."""
    from .last_good import LastGood
    last_good = LastGood(config.run_dir, "chargers.json")
    if not config.chargers_file.exists():
        last_good.forget()  # removed on purpose: every charger may connect, and no old copy comes back
        return None
    from . import chargers_file  # hashlib and scrypt: only for sites that use passwords
    from .protocol import authentication
    try:
        allowed, problem = chargers_file.load_or_last_good(config.chargers_file, last_good)
    except authentication.ChargersError as e:
        return str(e)
    if problem and log is not None:
        log.error(problem)
    return authentication.refusal(allowed, charger, env.get("HTTP_AUTHORIZATION"))


def tidy(connection, log):
    """The newest connection wins: end the older live backends of this identity, so that no two
    serve one charger (and take its commands); and remove what dead backends left behind."""
    from . import housekeeping
    for pid, info in housekeeping.end_older_connections(connection):
        log.note(f"took over from an older connection of {connection.identity} (backend pid {pid}, "
                  f"connected {info.get('connected_at', '?')} from {info.get('remote_addr', '?')}): "
                  "sent it SIGTERM")
    for name in housekeeping.remove_leftovers(connection.run_dir):
        log.note(f"removed {name} from the run directory: its backend is gone")


def release_stdio():
    """Hand websocketd the end of our stdout and stderr now, before the clean-up: it reads both until
    EOF, and when that came only with our exit, its wait for the process could close the pipes under
    its own readers ("read |0: file already closed" logged as an ERROR at about one disconnect in ten).
    What the clean-up has to say goes to the frame log (stderr is /dev/null from here on).
    The monotonic time of the release, for linger()."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
    finally:
        os.close(null)
    return time.monotonic()


def linger(released, seconds=RELEASE_LINGER_S):
    """Exit no sooner than `seconds` after release_stdio(): websocketd's reader must see the EOF before
    its wait for our exit closes the pipe, and on a busy machine a clean-up of a few ms was not always
    long enough. Well below the 100 ms after which websocketd interrupts a process that has not ended."""
    time.sleep(max(0.0, released + seconds - time.monotonic()))


def run(config, charger, log, tags_file, env):
    connection = runfiles.Connection(config.run_dir, charger, os.getpid())
    signal.signal(signal.SIGTERM, TERMINATION.handler)
    try:
        info = {"charger": charger, "pid": os.getpid(), "connected_at": timestamps.format_utc(now_utc()),
                "remote_addr": remote_addr(env)}
        if version(env) != "1.6":  # a 1.6 backend's info stays as it was; no "ocpp" means 1.6
            info["ocpp"] = version(env)
        connection.create(info)
        log.note(f"connected from {remote_addr(env) or 'stdin'}" + ("" if version(env) == "1.6" else f", OCPP {version(env)}"))
        tidy(connection, log)
        # Our own writer keeps the FIFO from reading EOF between commands.
        commands_fd = connection.open_fifo(os.O_RDONLY | os.O_NONBLOCK, owner=os.geteuid())
        keep_open = connection.open_fifo(os.O_WRONLY, owner=os.geteuid())
        backend = Backend(config, charger, log, write_all(1), connection, tags_file,
                          record_rate=config_module.limits(env).record_rate, protocol=protocol_of(env))
        serve(backend, 0, commands_fd)
        os.close(keep_open)
        log.note("disconnected")
    except BrokenPipeError:
        log.note("disconnected (stdout closed)")
    except SystemExit:
        log.note("ended by SIGTERM (a newer connection of this charger, or the service stopping)")
        raise
    except OSError as e:
        log.error(f"cannot serve: {e}")
        return 1
    finally:
        released = release_stdio()
        if connection.dir_fd is not None:
            try:
                limits = config_module.limits(env)
                for line in connection.keep_seen(timestamps.format_utc(now_utc()), limits.seen_max_bytes,
                                                 limits.seen_max_files):
                    log.note(line)
            except (OSError, ValueError) as e:
                log.error(f"cannot leave what shocpp-status shows of a gone charger in {config.run_dir}/seen: {e}")
        connection.remove()
        log.close()
        linger(released)
    return 0


if __name__ == "__main__":
    sys.exit(main())

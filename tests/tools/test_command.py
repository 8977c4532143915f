"""shocpp-command's argument parsing, in-process."""


def test_the_common_forms_of_arguments_are_parsed_as_argparse_parses_them():
    """shocpp-command reads its common forms without argparse; argparse gets everything else."""
    import contextlib
    import io

    from hypothesis import given, strategies as st

    from shocpp.tools.command import _argparse_args, _common_args

    words = st.sampled_from(["--charger", "--charger=CP1", "--charger=", "--timeout", "--timeout=5", "--list",
                             "--list=1", "--char", "--", "-h", "-5", "5", "0", "3601", "nan", "1e3", "x", "",
                             "Reset", '{"type":"Soft"}', "{}", "a b", "-x y"])

    def by_argparse(argv):
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            try:
                return _argparse_args(argv)
            except SystemExit as e:
                return ("exit", e.code)

    @given(st.lists(words, max_size=6))
    def check(argv):
        common = _common_args(argv)
        assert common is None or common == by_argparse(argv)

    check()
    assert _common_args(["--charger", "CP1", "--timeout", "10", "Reset", '{"type":"Soft"}']) == \
        ("Reset", '{"type":"Soft"}', "CP1", 10.0, False, None, None, False)
    assert _common_args(["--list"]) == (None, None, None, 30.0, True, None, None, False)
    assert _common_args(["--charger", "CP1", "RemoteStopTransaction"]) == \
        ("RemoteStopTransaction", None, "CP1", 30.0, False, None, None, False)
    assert _common_args(["--account", "home", "RemoteStartTransaction"]) is None  # argparse's
    assert _argparse_args(["--charger", "CP1", "--connector", "2", "--account", "home", "--force",
                           "RemoteStartTransaction"]) == \
        ("RemoteStartTransaction", None, "CP1", 30.0, False, "home", 2, True)


# -- what a charger sent never draws on the operator's terminal (#11) ------------------------------

HOSTILE = "SN\x1b[2J\nforged\tfield\r\u202eevil\x9b\x7f"
SHOWN = "SN\\x1b[2J\\x0aforged\\x09field\\x0d\\u202eevil\\x9b\\x7f"


def test_list_escapes_the_boot_data_so_that_it_forges_no_line_or_field(tmp_path, capsys):
    import os

    from shocpp import runfiles
    from shocpp.tools.command import list_chargers

    conn = runfiles.Connection(tmp_path, "CP1", 10)
    conn.create({"charger": "CP1", "connected_at": "2026-11-21T09:00:00.000Z", "remote_addr": "192.0.2.1",
                 "boot": {"chargePointVendor": "Acme\x1b]0;x\x07", "chargePointModel": "Box",
                          "chargePointSerialNumber": HOSTILE}})
    reader = os.open(conn.fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert list_chargers(tmp_path) == 0
    finally:
        os.close(reader)
    assert capsys.readouterr().out == \
        f"CP1\tconnected 2026-11-21T09:00:00.000Z\t192.0.2.1\tAcme\\x1b]0;x\\x07 Box {SHOWN}\n"


def test_a_callerror_and_a_confirmation_are_printed_without_what_draws(capsys):
    from shocpp.tools.command import report

    answer = {"status": "error", "code": "GenericError\x1b[1A", "description": f"no\n{HOSTILE}",
              "details": {"why": "\x1b[31mred"}}
    assert report("Reset", answer, "CP1", 30) == 1
    err = capsys.readouterr().err
    assert err == (f"shocpp-command: CP1 answered Reset with CALLERROR GenericError\\x1b[1A: no\\x0a{SHOWN}\n"
                   '{"why": "\\u001b[31mred"}\n')
    assert report("GetConfiguration", {"status": "result", "payload": {"unknownKey": [HOSTILE]}}, "CP1", 30) == 0
    out = capsys.readouterr().out
    assert all(line.isprintable() for line in out.splitlines())
    assert __import__("json").loads(out) == {"unknownKey": [HOSTILE]}


def test_one_escaping_function_is_shared_by_the_tools():
    from shocpp import tools
    from shocpp.tools import summary

    assert tools.printable(HOSTILE) == SHOWN == summary.cell(HOSTILE)
    assert tools.printable("Äcme 1 ☃") == "Äcme 1 ☃"
    assert summary._inert is tools.inert and tools.inert("=1+1") == "'=1+1" and tools.inert("1=1") == "1=1"


# -- the conveniences of #13 -----------------------------------------------------------------------

import pytest  # noqa: E402

from shocpp.protocol.tags import parse as parse_tags  # noqa: E402
from shocpp.tools.command import Failure, check_tag, report, start_payload, stop_payload  # noqa: E402

TAGS = parse_tags('[{"index": 1, "account": "home", "ids": ["1111", "2222"]}, '
                  '{"index": 2, "account": "empty", "ids": []}]')


def start(connector, tid, charger="CP1"):
    return {"event": "start", "charger": charger, "connector_id": connector, "transaction_id": tid,
            "meter_start_wh": tid, "start_time": "2026-11-21T10:00:00Z"}


def test_remote_stop_without_payload_takes_the_one_running_session():
    closed = start(1, 10000001)
    stop = {"event": "stop", "charger": "CP1", "transaction_id": 10000001, "connector_id": 1,
            "meter_start_wh": 10000001, "start_time": "2026-11-21T10:00:00Z"}
    records = [closed, stop, start(2, 10004200), start(1, 20000005, "CP2")]
    assert stop_payload(records, "CP1") == {"transactionId": 10004200}
    assert stop_payload(records, "CP1", 2) == {"transactionId": 10004200}
    with pytest.raises(Failure) as none:
        stop_payload(records, "CP1", 1)
    assert none.value.status == 2 and str(none.value).startswith("no running session on CP1 connector 1 in the ledger")


def test_remote_stop_with_several_sessions_asks_for_the_connector():
    records = [start(1, 10000001), start(2, 10004200)]
    with pytest.raises(Failure) as several:
        stop_payload(records, "CP1")
    assert several.value.status == 2
    assert str(several.value) == ("several connectors of CP1 are charging: connector 1 (transactionId 10000001), "
                                  "connector 2 (transactionId 10004200); choose one with --connector N "
                                  "(nothing was sent)")
    assert stop_payload(records, "CP1", 1) == {"transactionId": 10000001}


def test_remote_start_with_an_account_uses_its_first_tag_and_unknown_tags_are_refused():
    assert start_payload(TAGS, "home") == {"idTag": "1111"}
    assert start_payload(TAGS, "home", 2) == {"idTag": "1111", "connectorId": 2}
    for account in ("nobody", "empty"):
        with pytest.raises(Failure) as refused:
            start_payload(TAGS, account)
        assert refused.value.status == 2 and "accounts: home, empty" in str(refused.value)
    check_tag(TAGS, {"idTag": "2222"})
    with pytest.raises(Failure) as unknown:
        check_tag(TAGS, {"idTag": "7777"})
    assert (unknown.value.status, str(unknown.value)) == (2, "tag '7777' is not in tags.json: its session would be "
                                                             "billed to 'unknown' (nothing was sent; --force sends "
                                                             "it all the same)")


def test_a_rejected_remote_start_or_stop_exits_rejected(capsys):
    rejected = {"status": "result", "payload": {"status": "Rejected"}}
    assert report("RemoteStartTransaction", rejected, "CP1", 30) == 10
    assert capsys.readouterr().err == "shocpp-command: CP1 rejected the RemoteStartTransaction: nothing was started\n"
    assert report("RemoteStopTransaction", rejected, "CP1", 30) == 10
    assert report("RemoteStopTransaction", {"status": "result", "payload": {"status": "Accepted"}}, "CP1", 30) == 0
    assert report("ChangeAvailability", rejected, "CP1", 30) == 0  # Rejected there is an answer, not a failure

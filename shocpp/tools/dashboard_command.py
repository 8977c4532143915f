"""POST /api/command: an OCPP call through shocpp-command's own checks (its schema check, the tag of a
RemoteStartTransaction in tags.json, the charger chosen among the live ones), in-process.

An operator may send any call; a driver only a RemoteStartTransaction with a tag of its account
(its first tag when none is given) and a RemoteStopTransaction of a running session of its account.
A limit set or cleared while shocpp-balance balances the charger becomes the charger's maximum for
the balancer, never a profile sent around it."""

import json
import time

from .. import balance_control
from . import command as command_tool
from . import dashboard_views
from .dashboard_api import HTTP_OF, MAX_TIMEOUT, Answer, error


def command(dashboard, person, request):
    config = dashboard.config
    if not isinstance(request.get("action"), str):
        return error(400, 'give {"charger": ID, "action": ..., "payload": {...}}')
    charger, action, payload = request.get("charger"), request["action"], request.get("payload", {})
    timeout = request.get("timeout", 30)
    if charger is not None and not isinstance(charger, str):
        return error(400, "charger must be a charger's identity")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT:
        return error(400, f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    try:
        tags = command_tool.load_tags(config.tags_file) if action in command_tool.STARTS else None
        if person.role == "driver":
            payload = drivers_call(dashboard, person, charger, action, payload, tags)
        command_tool.early_check(action, json.dumps(payload))
        conn = command_tool.choose(config.run_dir, charger)
        ocpp = command_tool.version(conn)  # the call as the charger's protocol has it (1.6 -> 2.0.1)
        action, payload = command_tool.for_charger(action, payload, ocpp)
        payload = command_tool.parse_payload(action, json.dumps(payload), ocpp)
        if action in command_tool.STARTS:
            command_tool.check_tag(tags, payload)
        if action in command_tool.AROUND_THE_BALANCER:
            instead = operator_limit(config.run_dir, conn.identity, action, payload)
            if instead is not None:
                return instead
        answer = command_tool.send(config.run_dir, conn, action, payload, float(timeout))
    except command_tool.Failure as e:
        return error(HTTP_OF.get(e.status, 500), str(e))
    except OSError as e:
        return error(500, str(e))
    return answered(answer, action, conn.identity, timeout)


def drivers_call(dashboard, person, charger, action, payload, tags):
    """The payload a driver may send, or Failure (403 as USAGE's 400 would mislead: see below)."""
    if not isinstance(payload, dict):
        raise command_tool.Failure(command_tool.USAGE, "the payload must be a JSON object")
    if action in command_tool.STARTS:
        mine = tags.ids(person.account)
        if not mine:
            raise command_tool.Failure(command_tool.USAGE, f"the account {person.account!r} has no tag in tags.json")
        tag = command_tool.start_tag(payload)
        if tag is None:
            tag = mine[0]
            payload = {**payload, "idTag": tag} if "evseId" not in payload else \
                {**payload, "idToken": {"idToken": tag, "type": "Central"}}
        if tags.lookup(tag) is None or tags.lookup(tag).name != person.account:
            raise Forbidden("a driver starts a session with a tag of its own account only")
        return payload
    if action in command_tool.STOPS:
        shown = dashboard_views.site(dashboard.config)
        for c in shown["chargers"]:
            for k in c["connectors"] if c["identity"] == charger else ():
                s = k.get("session")
                if s and s.get("transaction_id") == payload.get("transactionId") and s.get("account") == person.account:
                    return payload
        raise Forbidden("a driver stops a running session of its own account only")
    raise Forbidden(f"a driver may start and stop sessions only (RemoteStart/StopTransaction), not {action}")


class Forbidden(command_tool.Failure):
    def __init__(self, message):
        super().__init__(FORBIDDEN, message + " (nothing was sent)")


FORBIDDEN = -403
HTTP_OF[FORBIDDEN] = 403


def answered(answer, action, charger, timeout):
    kind = answer.get("status")
    if kind == "result":
        return Answer(200, {"answer": answer["payload"], "charger": charger})
    if kind == "error":
        return error(502, f"{charger} answered {action} with CALLERROR {answer.get('code')}",
                     code=answer.get("code"), description=answer.get("description"), details=answer.get("details"))
    if kind == "refused":
        return error(400, f"the backend refused the call: {answer.get('message')} (nothing was sent)")
    return error(504, f"no answer from {charger} to {action} within {timeout:g} s")


def operator_limit(run_dir, charger, action, payload):
    """A limit set or cleared while shocpp-balance runs and balances the charger: the charger's maximum
    (balance_control.set_max), which the balancer applies at its next round, never a profile sent
    around it. None when the balancer does not run or balance it."""
    last = balance_control.status(run_dir)
    if not balance_control.running(run_dir, time.time(), last) or charger not in last.get("chargers", {}):
        return None
    max_a = None
    if action == "SetChargingProfile":
        schedule = (payload["csChargingProfiles"]["chargingSchedule"] if "csChargingProfiles" in payload
                    else payload["chargingProfile"]["chargingSchedule"][0])  # 2.0.1: a list of schedules
        period = schedule["chargingSchedulePeriod"][0]
        volts = 230 * (period.get("numberPhases") or 3)
        max_a = int(period["limit"] if schedule["chargingRateUnit"] == "A" else period["limit"] / volts)
    try:
        balance_control.set_max(run_dir, charger, max_a)
    except ValueError as e:
        return error(400, str(e))
    said = "site.json's maximum" if max_a is None else f"a maximum of {max_a} A"
    return Answer(200, {"answer": {"status": "Accepted", "balancer": f"shocpp-balance balances {charger}: "
                                   f"{said} set, applied at its next round"}, "charger": charger})

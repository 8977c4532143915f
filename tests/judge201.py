"""The `ocpp` package's verdict on a 2.0.1 payload: an independent judge of shocpp's schemas and answers."""

import asyncio
import copy


def judge_accepts(action, kind, payload):
    from ocpp.exceptions import OCPPError
    from ocpp.messages import Call, CallResult, validate_payload
    payload = copy.deepcopy(payload)  # the judge rewrites floats in place
    message = (Call(unique_id="1", action=action, payload=payload) if kind == "req"
               else CallResult(unique_id="1", action=action, payload=payload))
    try:
        asyncio.run(validate_payload(message, "2.0.1"))
    except OCPPError:
        return False
    return True

"""GET and POST /api/tags: the accounts with their tags, the unknown cards seen in the last 30 days,
and a card added to an account. tags.json is written whole and atomically, only after the new text
passed the same checks the backends make (protocol.tags.parse), and kept as the last good copy; the
running backends reload it as they do after any edit."""

import json
from datetime import datetime, timezone

from .. import atomic, tags_file, unknown_tags
from ..last_good import LastGood
from ..protocol.tags import TagsError, parse
from .dashboard_api import Answer, error

MAX_TAG = 20


def listing(dashboard, person):
    tags = dashboard.tags()
    if person.role == "driver":
        return Answer(200, {"accounts": [{"account": person.account, "tags": list(tags.ids(person.account))}],
                            "unknown": []})
    return Answer(200, {"accounts": [{"account": a, "tags": list(tags.ids(a))} for a in tags.accounts],
                        "unknown": unknown_tags.recent(dashboard.config.run_dir, datetime.now(timezone.utc), tags)})


def add(dashboard, body):
    account, tag = body.get("account"), body.get("id_tag")
    if not isinstance(account, str) or not isinstance(tag, str):
        return error(400, 'give {"account": NAME, "id_tag": TAG}')
    tag = tag.strip()
    if not 0 < len(tag) <= MAX_TAG or not tag.isprintable():
        return error(400, f"a tag is 1 to {MAX_TAG} printable characters (OCPP's idToken)")
    path = dashboard.config.tags_file
    try:
        text = tags_file.read(path)
        tags = parse(text, str(path))
    except TagsError as e:
        return error(500, f"tags.json cannot be changed while it is broken: {e}")
    if account not in tags.accounts:
        return error(404, f"no account {account!r} in tags.json (accounts: {', '.join(tags.accounts) or 'none'})")
    owner = tags.lookup(tag)
    if owner is not None:
        return error(409, f"tag {tag!r} belongs to the account {owner.name!r} already")
    entries = json.loads(text)
    for entry in entries:
        if entry["account"] == account:
            entry["ids"].append(tag)
    new = "[\n" + ",\n".join("  " + json.dumps(e, ensure_ascii=False) for e in entries) + "\n]\n"
    try:
        parse(new, str(path))
    except TagsError as e:
        return error(400, f"not written: {e}")
    try:
        atomic.write_bytes(path, new.encode("utf-8"), mode=0o640, fsync=True)
    except OSError as e:
        return error(500, f"cannot write {path}: {e}")
    LastGood(dashboard.config.run_dir, "tags.json").keep(new)
    return Answer(200, {"account": account, "id_tag": tag, "tags": list(tags.ids(account)) + [tag],
                        "answer": f"tag {tag} added to the account {account}"})

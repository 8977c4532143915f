"""The file side of tags.json: reading it, and keeping up with edits while a charger is connected."""

from .protocol.tags import TagsError, parse
from .watched import Watched


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise TagsError(f"{path}: cannot read: {e}") from None


def load(path):
    return parse(read(path), str(path))


def load_or_last_good(path, last_good=None):
    """(tags, problem). A good file's tags, kept as the last good copy (`last_good`, a LastGood); a broken
    file's last good copy, with what is wrong, left for shocpp-status too. TagsError when neither
    can be used: only then are chargers refused. `problem` is for the log (None: all is well)."""
    try:
        text = read(path)
        tags = parse(text, str(path))
    except TagsError as e:
        if last_good is None:
            raise
        copy = last_good.read()
        if copy is None:
            raise TagsError(f"{e} (and there is no last good copy in {last_good.copy})") from None
        try:
            tags = parse(copy, str(last_good.copy))
        except TagsError:
            raise TagsError(f"{e} (and the last good copy {last_good.copy} is broken too)") from None
        problem = f"{e}; serving with the last good copy {last_good.copy} until it is fixed"
        last_good.report(problem)
        return tags, problem
    return tags, (last_good.keep(text) if last_good is not None else None)


class TagsFile(Watched):
    """tags.json as it is now: reloaded when it changes; a broken edit keeps the last good one."""

    def __init__(self, path, last_good=None):
        self.last_good = last_good
        super().__init__(path, lambda p: load_or_last_good(p, last_good), TagsError, "tags")

    @property
    def tags(self):
        return self.value

"""The file side of tariffs.json: read and checked whenever a statement is made; optional."""

from .protocol.tariffs import TariffsError, parse


def load(path, accounts):
    """The Tariffs of the file at `path`, None when there is no such file; TariffsError naming the problem.

    accounts: the account names of tags.json, which an entry's `account` must be one of.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise TariffsError(f"{path}: cannot read: {e}") from None
    return parse(text, accounts, str(path))

"""Any month of the ledger for the dashboard, in-process: shocpp-summary's JSON and an account's
statement (tools/statement.py, HTML or CSV), as the commands make them. HistoryError says why not."""

import json

from .. import ledger
from ..protocol import months


class HistoryError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def month_of(year, month):
    """(year, month) of texts, checked; HistoryError 400 otherwise."""
    if not (year.isdigit() and len(year) == 4 and month.isdigit() and 1 <= int(month) <= 12):
        raise HistoryError(400, "give year=YYYY and month=MM")
    return months.checked(int(year), int(month))


def _sessions(config, month):
    from .ledger_sessions import read_sessions
    directory = config.accounting_dir
    if not directory.is_dir():
        raise HistoryError(500, f"the ledger directory {directory} does not exist (SHOCPP_ACCOUNTINGDIR)")
    try:
        return read_sessions(directory, months.between(month, month))
    except (OSError, ledger.Unavailable) as e:
        raise HistoryError(500, str(e)) from None


def summary(config, month):
    """shocpp-summary YYYY MM --format json, parsed; a broken tags.json or tariffs.json is named in
    "costs_problem" (the energy is shown all the same)."""
    from . import summary as summary_tool
    from ..protocol.tags import TagsError
    from ..protocol.tariffs import TariffsError
    sessions, problems = _sessions(config, month)
    made = summary_tool.aggregate(sessions, month, month, None, problems)
    problem = None
    try:
        summary_tool.add_costs(made, summary_tool._load_tariffs(config))
    except (TagsError, TariffsError, OSError) as e:
        problem = f"no costs: {e}"
    shown = json.loads(summary_tool.render_json(made))
    shown["costs_problem"] = problem
    return shown


def statement(config, month, account, kind):
    """(text, content type, file name) of an account's statement; kind: html or csv."""
    from . import statement as statement_tool
    from .. import tags_file, tariffs_file
    from ..protocol.tags import TagsError
    from ..protocol.tariffs import TariffsError
    sessions, problems = _sessions(config, month)
    try:
        tags = tags_file.load(config.tags_file)
        tariffs = tariffs_file.load(config.tariffs_file, tags.accounts)
    except (TagsError, TariffsError) as e:
        raise HistoryError(500, str(e)) from None
    if account not in tags.accounts and account not in statement_tool.accounts_of(sessions):
        raise HistoryError(404, f"no account {account!r} in tags.json or the ledger of {months.label(month)}")
    made = statement_tool.build(sessions, account, month, month, config.site_name, tags.ids(account), tariffs,
                                len(problems))
    name = statement_tool.file_stem(account, month, month) + "." + kind
    text = statement_tool.render_html(made) if kind == "html" else statement_tool.render_csv(made)
    return text, ("text/html" if kind == "html" else "text/csv"), name

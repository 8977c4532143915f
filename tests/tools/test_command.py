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
        ("Reset", '{"type":"Soft"}', "CP1", 10.0, False)
    assert _common_args(["--list"]) == (None, "{}", None, 30.0, True)

"""How bin/shocpp-backend and bin/shocpp-command start Python: paid per connection and per command.

They run `python -S -c 'from shocpp import startup; startup.main("shocpp.backend")'`:
- `-c`, not `-m`: -m imports runpy (and importlib.util, contextlib) only to find the module;
- `-S`: `site` lists the site-packages, reads their .pth files and imports what those name, at
  every start, for packages (jsonschema, dateutil) that shocpp imports lazily and seldom: for a
  payload that fails its compiled check, a timestamp of an unusual form. `late_site` adds them
  to sys.path, as `site` would have, when one of them is first imported.
Together about 7 ms of a start (bench/RESULTS.md, "Cold start" and "Command round trip").
"""

import sys

# What pyproject.toml's dependencies are imported as (tests/shell/test_startup.py holds them together).
DEPENDENCIES = ("jsonschema", "dateutil")


class _SiteOnFirstUse:
    """Last on sys.meta_path, so asked only about what no other finder found: the first import
    of a dependency runs `site` (python -S skipped it) and is looked up again."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.partition(".")[0] not in DEPENDENCIES:
            return None  # e.g. the optional modules that the standard library tries (nt, _winapi)
        sys.meta_path.remove(cls)
        import site
        from importlib.machinery import PathFinder

        site.main()
        return PathFinder.find_spec(name, path, target)


def late_site():
    """Under python -S, have the site-packages added when a dependency is first imported."""
    if sys.flags.no_site and _SiteOnFirstUse not in sys.meta_path:
        sys.meta_path.append(_SiteOnFirstUse)


def main(module):
    """Run `module`'s main() as a program, the way the bin/ wrappers do."""
    late_site()
    __import__(module)
    sys.exit(sys.modules[module].main())

"""bench/RESULTS.md from the sections the benchmarks return. Pure."""

from .common import number


def render(machine, sections, command, findings=""):
    lines = ["# shocpp benchmark results", "",
             f"Written by `{command}` on {machine['date']}. Every figure is the median of its runs; "
             "the spread is the lowest and the highest run. Targets are those of issue 6, for the "
             "2-core machines of the project.", "", "## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in machine.items() if key != "date"]
    lines.append("")
    summary = [(s.title, f) for s in sections for f in s.figures if f.target]
    if summary:
        lines += ["## Against the targets", "", "| figure | median | target | |", "|---|---:|---:|---|"]
        lines += [f"| {title}: {f.name} | {number(f.median)} {f.unit} | {f.target} {f.unit} | "
                  f"{'met' if f.met else '**missed**'} |" for title, f in summary]
        lines.append("")
    for section in sections:
        lines += [f"## {section.title}", "", section.about, ""]
        if section.figures:
            lines += ["| figure | median | spread | runs | target |", "|---|---:|---:|---:|---|"]
            for f in section.figures:
                target = "" if not f.target else f"{f.target} ({'met' if f.met else '**missed**'})"
                lines.append(f"| {f.name} | {number(f.median)} {f.unit} | {number(min(f.runs))} – "
                             f"{number(max(f.runs))} | {len(f.runs)} | {target} |")
            lines.append("")
        for note in section.notes:
            lines += [note.rstrip(), ""]
    if findings:
        lines += [findings.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"

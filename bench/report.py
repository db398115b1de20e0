"""Results files → the Markdown table, the targets of issues 5, 6 and 8, and bench/README.md.

Owns reading ``bench/results/*.json`` (the newest file of each setting), judging every target
against its limit (a missed target says so; a target whose size was not run says that), and
rewriting the part of bench/README.md between the two result markers, so the README's figures
always come from a results file and never from hand-editing. It must not run anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"

#: The order rows appear in within a size.
CASE_ORDER = ("plan_noop", "plan_1pct", "apply_1pct", "apply_all_new", "baseline_1pct")
CASE_LABELS = {
    "plan_noop": "plan, nothing to do",
    "plan_1pct": "plan, 1% changed",
    "apply_1pct": "apply that 1%",
    "apply_all_new": "apply everything new",
    "baseline_1pct": "baseline script, same 1%",
}


@dataclass(frozen=True)
class Verdict:
    """One target: what was measured against which limit, and whether it held."""

    target: str
    measured: str
    limit: str
    status: str  # met / MISSED / not run

    def as_json(self) -> dict[str, str]:
        """The verdict as JSON."""
        return {
            "target": self.target,
            "measured": self.measured,
            "limit": self.limit,
            "status": self.status,
        }


def load_latest(results: Path) -> list[dict[str, Any]]:
    """The newest results document of each setting in ``results``, Bold-like first."""
    newest: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted(results.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        name = document["setting"]["name"]
        stamp = str(document.get("started_at", document.get("date", "")))
        if name not in newest or stamp >= newest[name][0]:
            newest[name] = (stamp, document)
    order = {"bold": 0, "unpaced": 1}
    return [newest[k][1] for k in sorted(newest, key=lambda k: (order.get(k, 9), k))]


def find(
    documents: Sequence[Mapping[str, Any]], setting: str, case: str, size: int
) -> Mapping[str, Any] | None:
    """The row of ``case`` at ``size`` under ``setting``, if the run measured it."""
    for document in documents:
        if document["setting"]["name"] != setting:
            continue
        for row in document["rows"]:
            if row["case"] == case and row["size"] == size:
                return dict(row)
    return None


Row = Mapping[str, Any]


def _judge(
    name: str,
    limit: str,
    rows: Sequence[Row | None],
    measured: Callable[..., str],
    ok: Callable[..., bool],
) -> Verdict:
    """One target: "not run" unless every row it needs is present, else met or MISSED."""
    if any(row is None for row in rows):
        return Verdict(name, "—", limit, "not run")
    return Verdict(name, measured(*rows), limit, "met" if ok(*rows) else "MISSED")


def _fewer(ours: Row, theirs: Row) -> float:
    spent = int(ours.get("calls_with_plan", ours["calls_total"]))
    return theirs["calls_total"] / spent if spent else float("inf")


def judge(documents: Sequence[Mapping[str, Any]]) -> list[Verdict]:
    """Every target of issues 5, 6, 8 and 16 (the read's CPU), judged on the rows present."""
    noop = find(documents, "bold", "plan_noop", 1_000)
    ours = find(documents, "bold", "apply_1pct", 1_000)
    theirs = find(documents, "bold", "baseline_1pct", 1_000)
    big = find(documents, "unpaced", "plan_1pct", 10_000)
    read = find(documents, "unpaced", "plan_noop", 10_000)
    if read is not None and read.get("fetch_cpu_s") is None:
        read = None  # a row from before the bench measured the read apart
    new = find(documents, "bold", "apply_all_new", 1_000)
    verdicts = [
        _judge(
            "Plan with nothing to do, 1,000 rulesets, Bold-like (issue 8)",
            "≤ 1.2 × floor",
            [noop],
            lambda r: f"{r['wall_s']:.2f} s for {r['calls_total']} calls: {r['ratio']:.2f} × floor",
            lambda r: r["ratio"] <= 1.2,
        ),
        _judge(
            "Apply a 1% change, 1,000 rulesets: calls against the baseline (issue 8)",
            "≥ 50 × fewer calls",
            [ours, theirs],
            lambda o, t: (
                f"{int(o.get('calls_with_plan', o['calls_total']))} calls (plan + apply) "
                f"against {t['calls_total']}: {_fewer(o, t):.0f} × fewer"
            ),
            lambda o, t: _fewer(o, t) >= 50,
        ),
    ]
    for what, key, limit, unit in (
        ("CPU after fetching", "cpu_after_fetch_s", 2.0, "s"),
        ("wall time after fetching", "plan_wall_after_fetch_s", 2.0, "s"),
        ("peak memory", "peak_rss_mb", 400.0, "MB"),
    ):
        verdicts.append(
            _judge(
                f"Plan 10,000 rulesets (1% changed), unpaced: {what} (issues 5, 8)",
                f"≤ {limit:g} {unit}",
                [big],
                lambda r, key=key, unit=unit: f"{float(r[key]):.2f} {unit}",
                lambda r, key=key, limit=limit: float(r[key]) <= limit,
            )
        )
    verdicts.append(
        _judge(
            "Fetch and normalise 10,000 rulesets, unpaced: CPU (issue 16)",
            "≤ 1.5 s",
            [read],
            lambda r: f"{float(r['fetch_cpu_s']):.2f} s",
            lambda r: float(r["fetch_cpu_s"]) <= 1.5,
        )
    )
    verdicts.append(
        _judge(
            "Apply 1,000 new rulesets, Bold-like: wall time and 429s (issue 6)",
            "≤ 1.15 × floor, 0 × 429",
            [new],
            lambda r: (
                f"{r['wall_s']:.1f} s for {r['calls_total']} calls: {r['ratio']:.3f} × "
                f"floor, {r['rate_limited']} × 429"
            ),
            lambda r: r["ratio"] <= 1.15 and r["rate_limited"] == 0,
        )
    )
    return verdicts


def _calls(row: Mapping[str, Any]) -> str:
    parts = []
    for kind, count in sorted(row["calls"].items(), key=lambda kv: (-kv[1], kv[0])):
        label = kind.split(" ", 1)[1] if row["case"] != "baseline_1pct" else kind
        parts.append(f"{label} {count}")
    return ", ".join(parts)


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _noise(row: Mapping[str, Any], key: str) -> str:
    noise = row.get(key)
    return f" ± {_seconds(noise)}" if noise is not None else ""


def _notes(row: Mapping[str, Any]) -> str:
    notes = []
    changes = row.get("changes") or {}
    if row["case"] == "baseline_1pct":
        notes.append(
            f"missed {row['deletions_missed']} deletions; "
            f"{row['needless_writes']} writes changed nothing"
        )
    elif any(changes.values()):
        notes.append(" ".join(f"{k[0]}{v}" for k, v in changes.items() if v))
    if row["case"] in ("apply_1pct", "apply_all_new"):
        notes.append("converged" if row.get("converged") else "DID NOT CONVERGE")
        if "calls_with_plan" in row:
            notes.append(f"{row['calls_with_plan']} calls with its plan")
    if row.get("repeats", 1) == 1:
        notes.append("n=1")
    return "; ".join(notes)


def table(document: Mapping[str, Any]) -> str:
    """One setting's rows as a Markdown table."""
    lines = [
        "| rulesets | case | wall s | floor s | ratio | CPU s | fetch CPU s | CPU after fetch s "
        "| peak MB | calls | calls by kind | 429s | retries | notes |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    rank = {case: i for i, case in enumerate(CASE_ORDER)}
    rows = sorted(document["rows"], key=lambda r: (r["size"], rank.get(r["case"], 99)))
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row.get("ratio") is not None else "—"
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{row['size']:,}",
                    CASE_LABELS.get(row["case"], row["case"]),
                    _seconds(row["wall_s"]) + _noise(row, "wall_noise_s"),
                    _seconds(row["floor_s"]),
                    ratio,
                    _seconds(row["cpu_s"]) + _noise(row, "cpu_noise_s"),
                    _seconds(row.get("fetch_cpu_s")) + _noise(row, "fetch_cpu_noise_s"),
                    _seconds(row.get("cpu_after_fetch_s")) + _noise(row, "cpu_after_fetch_noise_s"),
                    f"{row['peak_rss_mb']:.0f}",
                    str(row["calls_total"]),
                    _calls(row),
                    str(row["rate_limited"]),
                    str(row["retries"]),
                    _notes(row),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def _machine(document: Mapping[str, Any]) -> str:
    m = document["machine"]
    return f"{m['cpus']} × {m['cpu_model']}, Python {m['python']}"


def render(documents: Sequence[Mapping[str, Any]]) -> str:
    """The generated part of the README: headline, targets, and a table per setting."""
    if not documents:
        return "No results yet: run `python -m bench --quick`."
    first = documents[0]
    sizes = "; ".join(
        f"{d['setting']['name']}: {', '.join(f'{s:,}' for s in d['sizes'])}" for d in documents
    )
    kind = "quick run" if all(d.get("quick") for d in documents) else "run"
    minutes = sum(float(d.get("duration_s", 0)) for d in documents) / 60
    out = [
        f"Measured {first['date']} on {_machine(first)} ({kind}; rulesets, {sizes}; "
        f"{minutes:.1f} min in all). "
        "Generated by `python -m bench` from "
        + ", ".join(f"`results/{d['date']}-{d['setting']['name']}.json`" for d in documents)
        + ".",
        "",
        "### Targets",
        "",
        "| target | measured | limit | status |",
        "|---|---|---|---|",
    ]
    out += [f"| {v.target} | {v.measured} | {v.limit} | {v.status} |" for v in judge(documents)]
    for document in documents:
        setting = document["setting"]
        out += ["", f"### {setting['description']}", "", table(document)]
    return "\n".join(out)


def update_readme(readme: Path, results: Path) -> str:
    """Rewrite the generated part of ``readme`` from ``results``; returns that part."""
    generated = render(load_latest(results))
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{readme} lacks the {START} … {END} markers")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{START}\n{generated}\n{END}{tail}", encoding="utf-8")
    return generated

"""The cleanup of ``doctor --write``: a killed run's probes of every kind deleted once an hour
old, through each kind's ``LEFTOVER``; recent probes and the shop's own objects left alone."""

from __future__ import annotations

from reconciler import client, doctor, probes
from reconciler.doctor import probenames, recording, results

from ..projects import seed_code, seed_zone
from ..sandbox import bodies

OLD = f"{probenames.PROBE_PREFIX}20200101t000000-abcdef"


def write_run(bold: client.BoldClient) -> results.Report:
    """One ``doctor --write`` run against ``bold``, as the command runs it."""
    report = results.Report(target="sandbox", api_url="in process", write=True)
    checker = recording.Doctor(bold, report=report, project="default")
    return doctor.run(checker, token_note="the test's token", write=probes.run)


def test_old_probes_of_every_kind_are_deleted_and_named(bold: client.BoldClient) -> None:
    recent = probenames.probe_name()
    for name in (OLD, recent):
        bold.upsert_ruleset(name, {"external_id": name, **bodies.ruleset(name)["ruleset"]})
        bold.create_order_condition(
            bodies.condition(
                name,
                "probe",
                type="FIELD_SET",
                operator="ONE_OF",
                field_sets=[{"customer.shipping.country_code": "ZZ"}],
            )
        )
        seed_code(bold, name, 0)
    seed_zone(bold, "prairies", "AB")
    seed_code(bold, "SPRING15", -15)

    report = write_run(bold)

    assert report.exit_code == 0, [c.lines() for c in report.failed]
    (leftovers,) = [c for c in report.checks if c.title == "leftover probes"]
    assert leftovers.lines() == [
        "ok       leftover probes: deleted 3 left by a killed doctor run: "
        f"ruleset {OLD}, order condition {OLD}, discount code {OLD}"
    ]
    assert [r["external_id"] for r in bold.list_rulesets()] == [recent]
    assert sorted(c["name"] for c in bold.list_order_conditions()) == ["ZONE", recent]
    assert sorted(c["code"] for c in bold.list_discount_codes()) == ["SPRING15", recent]


def test_a_run_without_leftovers_says_nothing_of_them(bold: client.BoldClient) -> None:
    report = write_run(bold)
    assert report.exit_code == 0
    assert [c.title for c in report.checks if "leftover" in c.title] == []
    assert report.checks[-1].lines()[0].startswith("ok       cleanup: deleted ownership record")

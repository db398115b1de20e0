"""Locations in templated manifests point at the template line a person edits, through loops."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from reconciler import cli

PROJECT = (
    "manifests: [pricing/]\ndefault_target: s\ntargets:\n  s:\n    sandbox: .boldrules/s.sqlite\n"
)

CODES = """\
discount_codes:
{% for p in [10, 200] %}
  - codes: [SAVE{{ p }}]
    action: {type: PRICE_ADJUST_PERCENT, value: -{{ p }}}
    product_selection: {type: PRODUCTS_ALL}
{% endfor %}
"""

RULESETS = """\
{# A comment line, then a loop whose body starts two lines below its tag. #}
rulesets:
{%- for tier in ["gold", "silver"] %}

  - external_id: {{ tier }}-sale
    product_selection: {type: PRODUCTS_ALL}
    rules:
      - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -5}]}
{%- endfor %}
"""


def test_a_problem_in_the_second_loop_iteration_names_the_template_line(tmp_path: Path) -> None:
    (tmp_path / "pricing").mkdir()
    (tmp_path / "boldrules.yaml").write_text(PROJECT)
    (tmp_path / "pricing" / "c.yaml.j2").write_text(CODES)
    result = CliRunner().invoke(cli.main, ["-C", str(tmp_path), "validate"])
    assert result.exit_code == 3
    assert result.stdout.splitlines() == [
        "pricing/c.yaml.j2:4:49: discount_code SAVE200 > action.value: -200 is less than the "
        "minimum of -100",
        "1 problem in 1 file",
    ]


def test_plan_origins_point_at_the_template_lines(tmp_path: Path) -> None:
    (tmp_path / "pricing").mkdir()
    (tmp_path / "boldrules.yaml").write_text(PROJECT)
    (tmp_path / "pricing" / "c.yaml.j2").write_text(CODES.replace("200", "20"))
    (tmp_path / "pricing" / "r.yaml.j2").write_text(RULESETS)
    result = CliRunner().invoke(cli.main, ["-C", str(tmp_path), "plan"])
    assert result.exit_code == 0, result.output
    creates = [line for line in result.stdout.splitlines() if line.startswith("+")]
    assert creates == [
        "+ ruleset gold-sale (1 rule: everyone −5%; all products; pricing/r.yaml.j2:5:5)",
        "+ ruleset silver-sale (1 rule: everyone −5%; all products; pricing/r.yaml.j2:5:5)",
        "+ discount code SAVE10 (−10% on all products; pricing/c.yaml.j2:3:13)",
        "+ discount code SAVE20 (−20% on all products; pricing/c.yaml.j2:3:13)",
    ]

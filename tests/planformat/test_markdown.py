"""The plan as Markdown for a pull-request comment, compared as whole lines; its template."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import errors, plan
from reconciler.planformat import markdown

from .conftest import OWNERSHIP, SAFETY, SUMMARY


def test_markdown_is_a_comment_with_codes_masked(small_plan: plan.Plan) -> None:
    checksum = small_plan.checksum[:12]
    assert markdown.render_markdown(small_plan).splitlines() == [
        "<!-- boldrules-plan target=sandbox -->",
        "### 📝 boldrules plan for `sandbox` (shop `sandbox-shop`)",
        "",
        "> [!IMPORTANT]",
        "> **Deletes 1 object**: discount code O•••• (5).",
        "",
        "| object | create | update | delete |",
        "|---|---:|---:|---:|",
        "| ruleset | 0 | 1 | 0 |",
        "| discount code | 1 | 0 | 1 |",
        "",
        f"**{SUMMARY}**",
        "",
        SAFETY,
        "",
        "<details><summary>Changes (3)</summary>",
        "",
        "```diff",
        "~ ruleset spring",
        "!     rules[gold]: gold −50% → gold −40%",
        "!     when: changes the live ruleset spring at apply",
        "+ discount code SP•••• (8) (−15% on all products; pricing/spring.yaml:8:14)",
        "!     when: goes live on merge",
        "- discount code O•••• (5) (−10% on all products) — no longer declared; its name starts "
        "with an ownership.discount_code_prefixes entry",
        "!     when: ends the live discount code at apply",
        "```",
        "",
        "</details>",
        "",
        OWNERSHIP,
        "",
        f"<sub>checksum <code>{checksum}</code> · API version 2022-10-14 · boldrules 0.1.0 · "
        "planned 2027-02-01T09:30:00Z · discount code names masked</sub>",
    ]


def test_markdown_shows_codes_when_asked(small_plan: plan.Plan) -> None:
    text = markdown.render_markdown(small_plan, show_codes=True)
    assert "> **Deletes 1 object**: discount code OLD10." in text.splitlines()
    assert "•" not in text


def test_markdown_folds_what_does_not_fit_a_comment(small_plan: plan.Plan) -> None:
    whole = markdown.render_markdown(small_plan)
    folded = markdown.render_markdown(small_plan, limit=len(whole) - 1)
    assert len(folded) < len(whole)
    assert "- discount code O•••• (5)" not in folded
    assert "<details><summary>Changes (3)</summary>" in whole.splitlines()


def test_a_broken_markdown_template_is_a_located_error(tmp_path: Path) -> None:
    template = tmp_path / "plan.md.j2"
    template.write_text("{{ summary }}\n{% for b in blocks %}\n")
    with pytest.raises(errors.ConfigError) as refused:
        markdown.load_template(template)
    assert str(refused.value) == (
        f"{template}:2: template error: Unexpected end of template. Jinja was looking for the "
        "following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'."
    )

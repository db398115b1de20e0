"""What the manifest tests share: a valid manifest to break one change at a time, a project
written to a folder, and the exact lines ``validate`` prints for it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler import config, errors, manifest

GOOD = """\
rulesets:
  - external_id: spring-sale
    public_name: Spring sale
    priority: 10
    start_date: 2026-03-01T00:00:00Z
    expiry_date: 2026-03-31T23:59:59Z
    product_selection: {type: PRODUCT_SEARCH, sku_ids: [SKU-100, SKU-200]}
    rules:
      - external_id: gold-half-off
        type: DISCOUNT
        conditions:
          - {type: CUSTOMER_GROUP, value: gold}
          - {type: ORDER_CONDITION, name: ZONE, value: prairies}
        actions: [{type: PRICE_ADJUST_PERCENT, value: -50}]
order_conditions:
  - name: ZONE
    value: prairies
    field_sets:
      - {customer.shipping.country_code: CA, customer.shipping.province_code: MB}
discount_codes:
  - codes: [SPRING15, SPRING15-VIP]
    action: {type: PRICE_ADJUST_PERCENT, value: -15}
    product_selection: {type: PRODUCTS_ALL}
"""

# A rule and a ruleset to build broken cases from, one change at a time.
RULE = "{external_id: r, type: DISCOUNT, conditions: [], actions: [{type: FREE_SHIPPING}]}"
RULESET = f"{{external_id: a, product_selection: {{type: PRODUCTS_ALL}}, rules: [{RULE}]}}"


def make_project(
    folder: Path, files: dict[str, str | bytes], *, project: str | None = None
) -> config.Project:
    (folder / "boldrules.yaml").write_text(
        project
        or "manifests: [pricing/]\ntargets:\n  sandbox: {sandbox: s.sqlite, vars: {pct: -20}}\n",
        encoding="utf-8",
    )
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return config.load_project(folder)


def problem_lines(folder: Path, files: dict[str, str | bytes], **kwargs: str) -> list[str]:
    project = make_project(folder, files, **kwargs)
    with pytest.raises(errors.ManifestInvalid) as caught:
        manifest.load_manifests(project, project.target(None))
    assert caught.value.exit_code == 3
    return [str(problem) for problem in caught.value.problems]

"""Manifests: what a valid set declares, and the exact located line each kind of mistake gets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reconciler import config, errors, manifest, model

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


def test_valid_manifest_declares_objects_as_written(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"pricing/spring.yaml": GOOD})
    loaded = manifest.load_manifests(project, project.target(None))
    assert loaded.files == ("pricing/spring.yaml",)
    assert [str(d.key) for d in loaded.objects] == [
        "order_condition:ZONE=prairies",
        "ruleset:spring-sale",
        "discount_code:SPRING15",
        "discount_code:SPRING15-VIP",
    ]
    condition, ruleset, code, vip = loaded.objects
    assert ruleset.origin == model.Origin("pricing/spring.yaml", 2, 5)
    assert ruleset.data["start_date"] == "2026-03-01T00:00:00Z"  # text, never a datetime
    assert ruleset.data["rules"][0]["actions"] == [{"type": "PRICE_ADJUST_PERCENT", "value": -50}]
    assert type(ruleset.data) is dict and type(ruleset.data["rules"]) is list
    assert condition.data["field_sets"] == [
        {"customer.shipping.country_code": "CA", "customer.shipping.province_code": "MB"}
    ]
    assert code.data == {
        "action": {"type": "PRICE_ADJUST_PERCENT", "value": -15},
        "product_selection": {"type": "PRODUCTS_ALL"},
        "code": "SPRING15",
    }
    assert vip.data["code"] == "SPRING15-VIP"
    assert code.group == vip.group != 0
    assert vip.origin == model.Origin("pricing/spring.yaml", 21, 23)


def test_templates_see_the_targets_vars(tmp_path: Path) -> None:
    template = """\
        rulesets:
        {% for tier in ["gold", "silver"] %}
          - external_id: {{ tier }}-{{ currency | lower }}
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: r
                type: DISCOUNT
                conditions: [{type: CUSTOMER_GROUP, value: {{ tier }}}]
                actions: [{type: PRICE_ADJUST_PERCENT, value: {{ pct }}}]
        {% endfor %}
        """
    project = make_project(
        tmp_path,
        {"pricing/tiers.yaml.j2": template, "pricing/plain.yml": "{}\n"},
        project=(
            "targets:\n"
            "  staging: {sandbox: s.sqlite, vars: {currency: CAD, pct: -10}}\n"
            "  production: {api_url: https://x.example, token_env: T, vars: {currency: USD, pct: -5}}\n"
            "default_target: staging\n"
        ),
    )
    staging = manifest.load_manifests(project, project.target("staging"))
    production = manifest.load_manifests(project, project.target("production"))
    assert staging.files == ("pricing/plain.yml", "pricing/tiers.yaml.j2")
    assert [d.key.name for d in staging.objects] == ["gold-cad", "silver-cad"]
    assert [d.key.name for d in production.objects] == ["gold-usd", "silver-usd"]
    assert production.objects[0].data["rules"][0]["actions"][0]["value"] == -5


def test_hidden_and_other_files_in_folders_are_ignored(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        {
            "pricing/a.yaml": "{}\n",
            "pricing/.draft.yaml": "not: [valid\n",
            "pricing/.git/x.yaml": "- no\n",
            "pricing/notes.txt": "hello\n",
            "pricing/_macros.j2": "{% macro x() %}{% endmacro %}\n",
        },
    )
    assert manifest.load_manifests(project, project.target(None)).files == ("pricing/a.yaml",)


# Each case: files → the exact lines validate prints. Every check of the schema, every check
# across files, and every kind of bad input.
CASES = [
    pytest.param(
        {"pricing/spring.yaml": GOOD.replace("value: -50", "value: -150")},
        [
            "pricing/spring.yaml:14:55: ruleset spring-sale > rules[gold-half-off] > "
            "actions[0].value: -150 is less than the minimum of -100"
        ],
        id="percent-below-minus-100",
    ),
    pytest.param(
        {
            "p.yaml": GOOD.replace(
                "PRICE_ADJUST_PERCENT, value: -50", "PRICE_ADJUST_ABSOLUTE, value: -1"
            )
        },
        [
            "pricing/p.yaml:14:56: ruleset spring-sale > rules[gold-half-off] > "
            "actions[0].value: -1 is less than the minimum of 0"
        ],
        id="absolute-price-below-zero",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("value: -50", "value: -12.5")},
        [
            "pricing/p.yaml:14:55: ruleset spring-sale > rules[gold-half-off] > "
            "actions[0].value: expected a whole number, got -12.5"
        ],
        id="cents-must-be-integers",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("    priority: 10", "    pirority: 10")},
        [
            "pricing/p.yaml:4:5: ruleset spring-sale: unknown field 'pirority' (did you mean 'priority'?)"
        ],
        id="unknown-field-suggestion",
    ),
    pytest.param(
        {"p.yaml": f"rulesets: [{RULESET}]\nrulset: []\n"},
        ["pricing/p.yaml:2:1: unknown field 'rulset' (did you mean 'rulesets'?)"],
        id="unknown-top-level-list",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("type: DISCOUNT\n", "type: DISCONT\n")},
        [
            "pricing/p.yaml:10:15: ruleset spring-sale > rules[gold-half-off] > type: "
            "'DISCONT' is not allowed (did you mean 'DISCOUNT'?)"
        ],
        id="enum-suggestion",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("{type: PRODUCTS_ALL}", "{type: EVERYTHING}")},
        [
            "pricing/p.yaml:23:31: discount_code SPRING15 > product_selection.type: 'EVERYTHING' "
            "is not allowed: use one of PRODUCTS_ALL, SHOPIFY_PRODUCTS_ALL, PRODUCT_SEARCH, "
            "PRODUCTS_SEARCH, SHOPIFY_PRODUCT_SEARCH, PRODUCTS_EXCEPT"
        ],
        id="enum-list",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("      - external_id: gold-half-off\n", "      - public: x\n")},
        [
            "pricing/p.yaml:9:9: ruleset spring-sale > rules[0]: missing required field "
            "'external_id'",
            "pricing/p.yaml:9:9: ruleset spring-sale > rules[0]: unknown field 'public'",
        ],
        id="rule-without-external-id",
    ),
    pytest.param(
        {
            "p.yaml": f"rulesets: [{RULESET.replace('actions: [{type: FREE_SHIPPING}]', 'actions: []')}]\n"
        },
        ["pricing/p.yaml:1:136: ruleset a > rules[r] > actions: must not be empty"],
        id="empty-actions",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("sku_ids: [SKU-100, SKU-200]", "skus: [1]")},
        [
            "pricing/p.yaml:7:24: ruleset spring-sale > product_selection: a product search (or "
            "PRODUCTS_EXCEPT) needs a filter: sku_ids, product_ids, variant_ids, collection_ids, vendors, titles or "
            "product_types",
            "pricing/p.yaml:7:47: ruleset spring-sale > product_selection: unknown field 'skus' "
            "(did you mean 'sku_ids'?)",
        ],
        id="product-search-without-filter",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("sku_ids: [SKU-100, SKU-200]", "sku_ids: [100, 'no']")},
        [
            "pricing/p.yaml:7:57: ruleset spring-sale > product_selection.sku_ids[0]: "
            "expected a string, got 100 (quote it: this field is text)"
        ],
        id="ids-are-strings",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("country_code: CA,", "country_code: NO,")},
        [
            "pricing/p.yaml:19:42: order_condition ZONE=prairies > "
            "field_sets[0].customer.shipping.country_code: expected a string, got the boolean "
            "false — YAML reads NO as false: quote it"
        ],
        id="norway-problem",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("external_id: spring-sale", "external_id: " + "x" * 130)},
        [
            "pricing/p.yaml:2:18: " + "ruleset " + "x" * 130 + " > external_id: is 130 "
            "characters long, over the limit of 128"
        ],
        id="external-id-too-long",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("2026-03-31T23:59:59Z", "2026-03-32")},
        [
            "pricing/p.yaml:6:18: ruleset spring-sale > expiry_date: '2026-03-32' is not an "
            "RFC 3339 date-time such as 2026-03-01T00:00:00Z"
        ],
        id="bad-date",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("2026-03-31T23:59:59Z", "2026-03-01T00:00:00+00:00")},
        [
            "pricing/p.yaml:6:18: ruleset spring-sale > expiry_date: 2026-03-01T00:00:00+00:00 "
            "is not after start_date 2026-03-01T00:00:00Z"
        ],
        id="expiry-not-after-start",
    ),
    pytest.param(
        {
            "p.yaml": GOOD
            + "    start_date: 2026-05-01T00:00:00Z\n    expiry_date: 2026-04-01T00:00:00Z\n"
        },
        [
            "pricing/p.yaml:25:18: discount_code SPRING15 > expiry_date: 2026-04-01T00:00:00Z is "
            "not after start_date 2026-05-01T00:00:00Z"
        ],
        id="code-expiry-not-after-start",
    ),
    pytest.param(
        {
            "p.yaml": GOOD
            + "    restrict_by_emails: ["
            + ", ".join(f"c{i}@example.com" for i in range(51))
            + "]\n"
        },
        [
            "pricing/p.yaml:24:25: discount_code SPRING15 > restrict_by_emails: has 51 items, "
            "over the limit of 50"
        ],
        id="too-many-emails",
    ),
    pytest.param(
        {"p.yaml": GOOD + "    limits: [{limit_type: per_order, limit_amount: 0}]\n"},
        [
            "pricing/p.yaml:24:27: discount_code SPRING15 > limits[0].limit_type: 'per_order' is "
            "not allowed: use one of per_shop, per_customer",
            "pricing/p.yaml:24:52: discount_code SPRING15 > limits[0].limit_amount: 0 is less "
            "than the minimum of 1",
        ],
        id="bad-limit",
    ),
    pytest.param(
        {"p.yaml": GOOD + "    conditions: [{type: CART_SUBTOTAL_MIN, value: '50.00'}]\n"},
        [
            "pricing/p.yaml:24:51: discount_code SPRING15 > conditions[0].value: expected a whole "
            "number, got '50.00'"
        ],
        id="subtotal-in-cents",
    ),
    pytest.param(
        {"a.yaml": f"rulesets: [{RULESET}]\n", "b.yaml": f"rulesets:\n  - {RULESET}\n"},
        [
            "pricing/b.yaml:2:19: ruleset a: declared twice (first at pricing/a.yaml:1:26)",
        ],
        id="duplicate-ruleset-across-files",
    ),
    pytest.param(
        {"p.yaml": f"rulesets: [{RULESET.replace(f'[{RULE}]', f'[{RULE}, {RULE}]')}]\n"},
        [
            "pricing/p.yaml:1:176: ruleset a > rules[r]: external_id 'r' is used twice in this "
            "ruleset (first at line 1)"
        ],
        id="duplicate-rule",
    ),
    pytest.param(
        {
            "p.yaml": GOOD,
            "q.yaml": "order_conditions:\n  - name: ZONE\n    value: prairies\n"
            "    field_sets: [{customer.shipping.country_code: CA, "
            "customer.shipping.province_code: MB}]\n",
        },
        [
            "pricing/q.yaml:2:5: order_condition ZONE=prairies: declared twice "
            "(first at pricing/p.yaml:16:5)"
        ],
        id="duplicate-order-condition",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("value: prairies}", "value: atlantic}")},
        [
            "pricing/p.yaml:13:13: ruleset spring-sale > rules[gold-half-off] > conditions[1]: "
            "order condition ZONE=atlantic is not declared in any manifest (ZONE has prairies)"
        ],
        id="undeclared-order-condition",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("name: ZONE, value: prairies}", "name: REGION, value: west}")},
        [
            "pricing/p.yaml:13:13: ruleset spring-sale > rules[gold-half-off] > conditions[1]: "
            "order condition REGION=west is not declared in any manifest (declare it under "
            "order_conditions)"
        ],
        id="undeclared-order-condition-group",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("name: ZONE, value: prairies}", "value: prairies}")},
        [
            "pricing/p.yaml:13:13: ruleset spring-sale > rules[gold-half-off] > conditions[1]: "
            "missing required field 'name'"
        ],
        id="order-condition-reference-without-name",
    ),
    pytest.param(
        {
            "p.yaml": GOOD,
            "zones.yaml": """\
                order_conditions:
                  - name: ZONE
                    value: maritimes
                    field_sets:
                      - {customer.shipping.country_code: CA, customer.shipping.postal_code: B3H}
                """,
        },
        [
            "pricing/zones.yaml:5:9: order_condition ZONE=maritimes > field_sets[0]: tests "
            "country_code, postal_code but order_condition ZONE=prairies > field_sets[0] "
            "(pricing/p.yaml:19:9) tests country_code, province_code: every order condition "
            "named ZONE must test the same fields"
        ],
        id="group-tests-different-fields",
    ),
    pytest.param(
        {
            "p.yaml": GOOD.replace(
                "      - {customer.shipping.country_code: CA, customer.shipping.province_code: MB}\n",
                "      - {customer.shipping.country_code: CA, customer.shipping.province_code: MB}\n"
                "      - {customer.shipping.province_code: MB, customer.shipping.country_code: CA}\n",
            )
        },
        [
            "pricing/p.yaml:20:9: order_condition ZONE=prairies > field_sets[1]: the same as field_sets[0]"
        ],
        id="duplicate-field-set",
    ),
    pytest.param(
        {
            "p.yaml": GOOD.replace(
                "customer.shipping.province_code: MB}", "customer.shipping.city: x}"
            )
        },
        [
            "pricing/p.yaml:19:46: order_condition ZONE=prairies > field_sets[0]: unknown field "
            "'customer.shipping.city' (did you mean 'customer.shipping.country'?)"
        ],
        id="unknown-field-set-field",
    ),
    pytest.param(
        {"p.yaml": GOOD.replace("[SPRING15, SPRING15-VIP]", "[SPRING15, SPRING15]")},
        [
            "pricing/p.yaml:21:23: discount_code SPRING15 > codes[1]: 'SPRING15' appears twice "
            "in this list"
        ],
        id="codes-list-repeats",
    ),
    pytest.param(
        {
            "p.yaml": GOOD,
            "z-more.yaml": "discount_codes:\n  - codes: [spring15]\n"
            "    action: {type: FREE_SHIPPING}\n    product_selection: {type: PRODUCTS_ALL}\n",
        },
        [
            "pricing/z-more.yaml:2:13: discount_code spring15 > codes[0]: 'spring15' is already "
            "declared as 'SPRING15' (codes are unique regardless of case) at pricing/p.yaml:21:13"
        ],
        id="code-duplicate-ignoring-case",
    ),
    pytest.param(
        {
            "p.yaml": GOOD.replace(
                "    public_name: Spring sale\n", "    public_name: a\n    public_name: b\n"
            )
        },
        ["pricing/p.yaml:4:5: ruleset spring-sale: 'public_name' is given twice (first at line 3)"],
        id="duplicate-key",
    ),
    # Bad input: each gets one located line and no traceback.
    pytest.param(
        {"p.yaml": "rulesets:\n  - external_id: a\n   product_selection: x\n"},
        [
            "pricing/p.yaml:3:4: invalid YAML: while parsing a block collection: expected "
            "<block end>, but found '<block mapping start>' (check the indentation)",
        ],
        id="invalid-yaml",
    ),
    pytest.param(
        {"p.yaml": "rulesets:\n\t- external_id: a\n"},
        [
            "pricing/p.yaml:2:1: invalid YAML: while scanning for the next token: found character "
            "'\\t' that cannot start any token (indent with spaces: YAML does not allow tabs)"
        ],
        id="tab-indentation",
    ),
    pytest.param(
        {"p.yaml": ""},
        [
            "pricing/p.yaml:1:1: the file is empty: a manifest holds rulesets, order_conditions "
            "and/or discount_codes"
        ],
        id="empty-file",
    ),
    pytest.param(
        {"p.yaml": "# only a comment\n"},
        [
            "pricing/p.yaml:1:1: the file is empty: a manifest holds rulesets, order_conditions "
            "and/or discount_codes"
        ],
        id="comment-only-file",
    ),
    pytest.param(
        {"p.yaml": "- external_id: a\n"},
        [
            "pricing/p.yaml:1:1: the top level must be a mapping with rulesets, order_conditions "
            "and/or discount_codes, not a list"
        ],
        id="top-level-list",
    ),
    pytest.param(
        {"p.yaml": "just text\n"},
        [
            "pricing/p.yaml:1:1: the top level must be a mapping with rulesets, order_conditions "
            "and/or discount_codes, not str 'just text'"
        ],
        id="top-level-scalar",
    ),
    pytest.param(
        {"p.yaml": b"rulesets:\n  - external_id: caf\xe9\n"},
        ["pricing/p.yaml:2:21: not UTF-8 text (byte 0xe9): save the file as UTF-8"],
        id="not-utf8",
    ),
    pytest.param(
        {"p.yaml": "a: !!python/object/apply:os.system [echo]\n"},
        [
            "pricing/p.yaml:1:4: invalid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'"
        ],
        id="unsafe-tag",
    ),
    pytest.param(
        {"p.yaml": "a: &a [*a]\n"},
        ["pricing/p.yaml:1:4: an alias refers to a node that contains it"],
        id="recursive-alias",
    ),
    pytest.param(
        {"p.yaml": "a: 1\n\x00\n"},
        ["pricing/p.yaml:2:1: invalid YAML: control character #x0000 is not allowed"],
        id="control-character",
    ),
    pytest.param(
        {"p.yaml": "{}\n---\n{}\n"},
        [
            "pricing/p.yaml:2:1: invalid YAML: expected a single document in the stream: but "
            "found another document"
        ],
        id="two-documents",
    ),
    pytest.param(
        {"p.yaml": "1: a\ntrue: b\n"},
        ["pricing/p.yaml:1:1: unknown field '1'", "pricing/p.yaml:2:1: unknown field 'true'"],
        id="non-text-keys-stay-distinct",
    ),
    pytest.param(
        {"p.yaml": "x: " + "[" * 100 + "]" * 100 + "\n"},
        ["pricing/p.yaml:1:67: nested deeper than 64 levels"],
        id="too-deep",
    ),
    pytest.param(
        {"t.yaml.j2": "rulesets:\n{% for x in y %}\n  - {{ x }}\n"},
        [
            "pricing/t.yaml.j2:3:1: template syntax: Unexpected end of template. Jinja was looking "
            "for the following tags: 'endfor' or 'else'. The innermost block that needs to be "
            "closed is 'for'."
        ],
        id="template-syntax",
    ),
    pytest.param(
        {"t.yaml.j2": "rulesets:\n\n  - external_id: {{ currency }}\n"},
        [
            "pricing/t.yaml.j2:3:1: template: 'currency' is undefined (target 'sandbox' has vars: pct)"
        ],
        id="template-undefined-variable",
    ),
    pytest.param(
        {"t.yaml.j2": "a: {{ pct.__class__.__mro__ }}\n"},
        [
            "pricing/t.yaml.j2:1:1: template: not allowed in the sandbox: access to attribute "
            "'__class__' of 'int' object is unsafe."
        ],
        id="template-sandbox",
    ),
    pytest.param(
        {"t.yaml.j2": "a: 1\nb: {{ 1 // 0 }}\n"},
        ["pricing/t.yaml.j2:2:1: template: ZeroDivisionError: integer division or modulo by zero"],
        id="template-runtime-error",
    ),
    pytest.param(
        {"t.yaml.j2": "a: 1\n{% include 'pricing/_missing.j2' %}\n"},
        ["pricing/t.yaml.j2:2:1: template: no such file to include: pricing/_missing.j2"],
        id="template-include-missing",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_broken_manifests_get_exact_lines(
    tmp_path: Path, files: dict[str, str | bytes], expected: list[str]
) -> None:
    placed = {name if "/" in name else f"pricing/{name}": text for name, text in files.items()}
    assert problem_lines(tmp_path, placed) == expected


def test_problems_of_many_files_come_sorted_and_all_at_once(tmp_path: Path) -> None:
    lines = problem_lines(
        tmp_path,
        {
            "pricing/b.yaml": "rulesets: [{external_id: b}]\n",
            "pricing/a.yaml": "{oops: 1}\n",
            "pricing/c.yaml": "",
        },
    )
    assert lines == [
        "pricing/a.yaml:1:2: unknown field 'oops'",
        "pricing/b.yaml:1:12: ruleset b: missing required field 'product_selection'",
        "pricing/b.yaml:1:12: ruleset b: missing required field 'rules'",
        "pricing/c.yaml:1:1: the file is empty: a manifest holds rulesets, order_conditions "
        "and/or discount_codes",
    ]


def test_manifest_paths_that_are_missing_point_at_the_project_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    lines = problem_lines(
        tmp_path, {}, project="manifests:\n  - pricing/\n  - empty\n  - notes.txt\n"
    )
    assert lines == [
        "boldrules.yaml:2:5: manifests[0]: no such file or folder: pricing",
        "boldrules.yaml:3:5: manifests[1]: empty/ holds no *.yaml, *.yml or *.yaml.j2 files",
        "boldrules.yaml:4:5: manifests[2]: notes.txt is not a manifest: name it *.yaml, *.yml or "
        "*.yaml.j2",
    ]


def test_broken_link_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "pricing").mkdir()
    os.symlink(tmp_path / "gone.yaml", tmp_path / "pricing" / "link.yaml")
    assert problem_lines(tmp_path, {}) == ["pricing/link.yaml:1:1: no such file (a broken link?)"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "pricing" / "secret.yaml"
    path.parent.mkdir()
    path.write_text("{}\n")
    path.chmod(0)
    assert problem_lines(tmp_path, {}) == [
        "pricing/secret.yaml:1:1: cannot read the file: permission denied"
    ]


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = "# " + "x" * 1000 + "\n"
    lines = problem_lines(tmp_path, {"pricing/big.yaml": big * 67000})
    assert lines == [
        "pricing/big.yaml:1:1: file is 64.1 MiB, over the 64 MiB limit: split it into several files"
    ]


#: Loads a project's manifests in a fresh interpreter and prints, as JSON, the problems and how
#: far the process's peak resident memory rose above what the imports alone took.
_PEAK_PROBE = """
import json, resource, sys
from reconciler import config, errors, manifest
from pathlib import Path
project = config.load_project(Path(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    manifest.load_manifests(project, project.target(None))
    problems = []
except errors.ManifestInvalid as exc:
    problems = [str(p) for p in exc.problems]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"problems": problems, "rise_kib": after - before}))
"""


def test_template_that_renders_too_much_is_refused(tmp_path: Path) -> None:
    template = (
        "{% for i in range(100000) %}{% for j in range(100) %}xxxxxxxxx{% endfor %}{% endfor %}"
    )
    # Rendered whole, it would be 90 million characters (90 MB for the text alone, several
    # times that in the pieces Jinja joins); stopped by the step budget at 2,000,000 steps, it
    # stays far below. Memory, unlike time, does not depend on how busy the machine is; a
    # process of its own measures it (peak RSS) without tracemalloc's slowdown.
    project = make_project(tmp_path, {"pricing/t.yaml.j2": template})
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_PROBE, str(project.root)],
        capture_output=True,
        text=True,
        check=True,
        timeout=50,
    )
    found = json.loads(done.stdout)
    assert found["problems"] == [
        "pricing/t.yaml.j2:1:1: template: the template takes more than 2,000,000 steps (loop "
        "iterations, calls and filters): refused; make its loops smaller"
    ]
    assert found["rise_kib"] < 160 * 1024


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    # Expanded, the document would hold 9**12 (282 billion) nodes: that this answer comes at
    # all (within the suite's per-test timeout) shows the count stopped at the limit.
    result = problem_lines(tmp_path, {"pricing/bomb.yaml": "\n".join(lines) + "\n"})
    assert result == [
        "pricing/bomb.yaml:6:5: the document expands to more than 500000 nodes "
        "(aliases repeated?): refused"
    ]


def test_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = """\
        rulesets:
          - &base
            external_id: a
            product_selection: {type: PRODUCTS_ALL}
            rules: [{external_id: r, type: DISCOUNT, conditions: [], actions: [{type: FREE_SHIPPING}]}]
          - <<: *base
            external_id: b
        """
    project = make_project(tmp_path, {"pricing/p.yaml": text})
    loaded = manifest.load_manifests(project, project.target(None))
    assert [d.key.name for d in loaded.objects] == ["a", "b"]
    assert loaded.objects[1].data["rules"] == loaded.objects[0].data["rules"]

"""The discount code kind: one object per name, created together, case-insensitive identity."""

from __future__ import annotations

from typing import Any

from reconciler import kinds, model
from tests.kinds.conftest import run_changes

SPEC = kinds.by_name[model.Kind.DISCOUNT_CODE]

CONFIG: dict[str, Any] = {
    "action": {"type": "PRICE_ADJUST_PERCENT", "value": -15},
    "product_selection": {"type": "PRODUCTS_ALL"},
    "restrict_by_emails": ["b@example.com", "a@example.com"],
}


def test_live_json_round_trips_through_the_api_body() -> None:
    desired = SPEC.resource({**CONFIG, "code": "SPRING15"})
    assert desired.body["restrict_by_emails"] == ["a@example.com", "b@example.com"]
    body = SPEC.to_api(desired.body)
    assert "code" not in body["discount_code"]  # an update never renames
    assert SPEC.resource({**body["discount_code"], "code": "SPRING15"}).fingerprint() == (
        desired.fingerprint()
    )


def test_codes_sharing_a_configuration_are_one_post(bold: Any) -> None:
    made = [SPEC.resource({**CONFIG, "code": c}) for c in ("SPRING15", "SPRING20")]
    assert run_changes(bold, [model.Create(r) for r in made]) == [
        "create discount codes SPRING15, SPRING20: create_discount_codes"
    ]
    live = SPEC.live(SPEC.read(bold).items)
    assert sorted(r.key.name for r in live) == ["SPRING15", "SPRING20"]
    found = SPEC.read_one(bold, model.discount_code_key("spring15"))  # any case
    assert found is not None and found.fingerprint() == made[0].fingerprint()
    assert run_changes(bold, [model.Delete(found)]) == [
        "delete discount code SPRING15: delete_discount_code"
    ]
    assert SPEC.read_one(bold, model.discount_code_key("SPRING15")) is None


def test_a_second_code_differing_only_in_case_is_keyed_by_its_id() -> None:
    items = [{**CONFIG, "code": "spring15", "id": 9}, {**CONFIG, "code": "SPRING15", "id": 4}]
    assert [r.key.name for r in SPEC.live(items)] == ["SPRING15", "spring15 #9"]


def test_the_manifest_form_groups_codes_sharing_a_configuration() -> None:
    made = [SPEC.resource({**CONFIG, "code": c}) for c in ("SPRING20", "SPRING15")]
    [(file_name, entry)] = SPEC.manifests(made)
    assert file_name == "SPRING15" and entry["codes"] == ["SPRING15", "SPRING20"]
    assert "conditions" not in entry  # empty lists left out
    again = SPEC.resource({**{k: v for k, v in entry.items() if k != "codes"}, "code": "SPRING15"})
    assert again.fingerprint() == made[1].fingerprint()


def test_ours_by_a_listed_prefix_and_its_name_masked() -> None:
    key = model.discount_code_key("Spring15")
    assert SPEC.claim(key, kinds.Scope(prefixes=("spring",))) == kinds.BY_PREFIX_SETTING
    assert SPEC.claim(key, kinds.Scope(prefixes=("fall",))) is None
    assert SPEC.claim(key, kinds.Scope(all_codes=True)) == kinds.BY_PREFIX_SETTING
    assert SPEC.secret_name and SPEC.dated

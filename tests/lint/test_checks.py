"""Each lint check on a small project with its defect: found under its id, at the field to fix
(file, line and column), naming the objects involved; and the clean form of each gives nothing."""

from __future__ import annotations

from .conftest import Lint


def located(finding: dict[str, object]) -> tuple[object, object, object]:
    return (finding["file"], finding["line"], finding["column"])


def test_stack_order_on_a_discount_points_at_stack_order(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: spring
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: gold
                type: DISCOUNT
                stack_order: 2
                conditions: []
                actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]
        """)
    (found,) = linted.findings
    assert found["id"] == "stack-order-on-discount" and found["severity"] == "error"
    assert located(found) == ("pricing/rules.yaml", 7, 9)
    assert found["objects"] == ["ruleset:spring"]
    assert "customers never get its price" in found["message"]
    assert linted.exit_code == 3


def test_a_condition_name_as_rule_type_points_at_the_type(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: bulk
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: ten
                type: QTY_BY_PRODUCT
                conditions: [{type: QTY_BY_PRODUCT, operator: ">=", value: 10}]
                actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]
        """)
    (found,) = linted.findings
    assert (found["id"], located(found)) == ("condition-as-rule-type", ("pricing/rules.yaml", 6, 9))
    assert linted.exit_code == 3


def test_a_lower_rule_priority_shadows_a_stacked_rule_even_when_its_conditions_fail(
    lint: Lint,
) -> None:
    linted = lint("""\
        rulesets:
          - external_id: staff
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: staff-five
                type: STACKABLE_DISCOUNT
                priority: 0
                conditions: [{type: CUSTOMER_GROUP, value: staff}]
                actions: [{type: PRICE_ADJUST_PERCENT, value: -5}]
          - external_id: round
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [A-1]}
            rules:
              - external_id: charm
                type: ROUNDING
                priority: 1
                conditions: []
                actions: [{type: PRICE_ADJUST_RELATIVE, value: -1}]
        """)
    (found,) = linted.findings
    assert found["id"] == "priority-shadow" and found["severity"] == "warning"
    assert located(found) == ("pricing/rules.yaml", 15, 9)
    assert found["objects"] == ["ruleset:round", "ruleset:staff"]
    assert "even when its own conditions fail" in found["message"]
    assert linted.exit_code == 0


def members_and_clearance(*, members: int, clearance: int) -> str:
    """A gold members' 10% on everything and a 50% clearance of OLD-1, at these priorities."""
    return f"""\
        rulesets:
          - external_id: members
            priority: {members}
            product_selection: {{type: PRODUCTS_ALL}}
            rules:
              - external_id: members
                type: DISCOUNT
                conditions: [{{type: CUSTOMER_GROUP, value: gold}}]
                actions: [{{type: PRICE_ADJUST_PERCENT, value: -10}}]
          - external_id: clearance
            priority: {clearance}
            product_selection: {{type: PRODUCT_SEARCH, sku_ids: [OLD-1]}}
            rules:
              - external_id: half
                type: DISCOUNT
                conditions: []
                actions: [{{type: PRICE_ADJUST_PERCENT, value: -50}}]
        """


def test_a_deeper_discount_behind_a_lower_ruleset_priority_never_wins(lint: Lint) -> None:
    linted = lint(members_and_clearance(members=1, clearance=5))
    (found,) = linted.findings
    assert found["id"] == "never-wins"
    assert located(found) == ("pricing/rules.yaml", 11, 5)
    assert found["objects"] == ["ruleset:clearance", "ruleset:members"]
    assert "customers in gold" in found["message"] and "100.00 item costs 90.00" in found["message"]


def test_the_same_rulesets_the_other_way_round_are_clean(lint: Lint) -> None:
    linted = lint(members_and_clearance(members=5, clearance=1))
    assert (linted.findings, linted.exit_code) == ([], 0)


def test_a_lower_priority_rule_that_needs_more_than_the_deeper_one_leaves_it_winning(
    lint: Lint,
) -> None:
    # The priority-5 ruleset prices only 6 or more units: a single unit gets the 20% of the
    # priority-10 ruleset, which therefore does win (on every purchase under 6).
    linted = lint("""\
        rulesets:
          - external_id: case-deal
            priority: 5
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [A-1]}
            rules:
              - external_id: case
                type: DISCOUNT
                conditions: [{type: QTY_BY_VARIANT, operator: ">=", value: 6}]
                actions: [{type: PRICE_ADJUST_RELATIVE, value: -50}]
          - external_id: gold-price
            priority: 10
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [A-1]}
            rules:
              - external_id: gold
                type: DISCOUNT
                conditions: [{type: CUSTOMER_GROUP, value: gold}]
                actions: [{type: PRICE_ADJUST_PERCENT, value: -20}]
        """)
    assert (linted.findings, linted.exit_code) == ([], 0)


#: A sale at priority 1 (10% for everyone, 40% for the group TIER names) and a standing 20% for gold.
SALE_AND_GOLD_PRICE = """\
    rulesets:
      - external_id: sale
        priority: 1
        product_selection: {type: PRODUCTS_ALL}
        rules:
          - {external_id: everyone, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
          - {external_id: TIER, type: DISCOUNT, conditions: [{type: CUSTOMER_GROUP, value: TIER}], actions: [{type: PRICE_ADJUST_PERCENT, value: -40}]}
      - external_id: gold-price
        priority: 10
        product_selection: {type: PRODUCT_SEARCH, sku_ids: [A-1]}
        rules:
          - {external_id: gold, type: DISCOUNT, conditions: [{type: CUSTOMER_GROUP, value: gold}], actions: [{type: PRICE_ADJUST_PERCENT, value: -20}]}
    """


def test_a_winning_ruleset_whose_own_rule_is_deeper_costs_the_customer_nothing(
    lint: Lint,
) -> None:
    # The sale (priority 1) wins for gold customers, with its own 40%: the standing 20% loses,
    # and no customer pays more for it. Its 10% for everyone is not what gold customers pay.
    linted = lint(SALE_AND_GOLD_PRICE.replace("TIER", "gold"))
    assert (linted.findings, linted.exit_code) == ([], 0)
    # When its 40% is for staff, the sale does cost gold customers their 20%.
    linted = lint(SALE_AND_GOLD_PRICE.replace("TIER", "staff"))
    (found,) = linted.findings
    assert found["id"] == "never-wins"
    assert found["objects"] == ["ruleset:gold-price", "ruleset:sale"]
    assert found["message"] == (
        "ruleset gold-price (priority 10) never wins on sku_ids A-1 for customers in gold: "
        "ruleset sale has the lower priority number 1, so a 100.00 item costs 90.00 instead of "
        "the deeper 80.00 of rule gold."
    )


def test_a_winning_ruleset_deeper_for_some_customers_only_is_judged_for_the_others(
    lint: Lint,
) -> None:
    # Gold customers get the sale's 40%; everyone else gets its 10%, not the clearance's 50%.
    linted = lint("""\
        rulesets:
          - external_id: sale
            priority: 1
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - {external_id: gold, type: DISCOUNT, conditions: [{type: CUSTOMER_GROUP, value: gold}], actions: [{type: PRICE_ADJUST_PERCENT, value: -60}]}
              - {external_id: everyone, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
          - external_id: clearance
            priority: 5
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [OLD-1]}
            rules:
              - {external_id: half, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -50}]}
        """)
    (found,) = linted.findings
    assert found["message"] == (
        "ruleset clearance (priority 5) never wins on sku_ids OLD-1 for every customer: "
        "ruleset sale has the lower priority number 1, so a 100.00 item costs 90.00 instead of "
        "the deeper 50.00 of rule half."
    )


def test_a_base_price_and_a_discount_are_different_layers_and_never_compete(lint: Lint) -> None:
    # Layer 0 sets the price (95.00), layer 2 then takes 10% off it: both apply.
    linted = lint("""\
        rulesets:
          - external_id: list-price
            priority: 1
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [A-1]}
            rules:
              - {external_id: base, type: BASE_PRICE, conditions: [], actions: [{type: PRICE_ADJUST_ABSOLUTE, value: 9500}]}
          - external_id: sale
            priority: 5
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [A-1]}
            rules:
              - {external_id: ten, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
        """)
    assert (linted.findings, linted.exit_code) == ([], 0)


def test_two_rulesets_of_one_priority_on_the_same_products_overlap(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: a
            priority: 3
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [S-1, S-2]}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
          - external_id: b
            priority: 3
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [S-2]}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -20}]}
        """)
    (found,) = linted.findings
    assert (found["id"], found["severity"]) == ("overlap", "info")
    assert located(found) == ("pricing/rules.yaml", 9, 5)
    assert "only the lowest price applies, ruleset b's" in found["message"]
    assert linted.exit_code == 0


def test_different_customer_groups_windows_or_products_do_not_overlap(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: gold
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [{type: CUSTOMER_GROUP, value: gold}], actions: [{type: PRICE_ADJUST_PERCENT, value: -20}]}
          - external_id: silver
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [{type: CUSTOMER_GROUP, value: silver}], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
        """)
    assert linted.findings == []
    linted = lint("""\
        rulesets:
          - external_id: tea
            product_selection: {type: PRODUCT_SEARCH, product_types: [tea]}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
          - external_id: coffee
            product_selection: {type: PRODUCT_SEARCH, product_types: [coffee]}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
        """)
    assert linted.findings == []
    linted = lint("""\
        rulesets:
          - external_id: summer
            start_date: 2026-07-01T00:00:00Z
            expiry_date: 2026-08-01T00:00:00Z
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [X]}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
          - external_id: autumn
            start_date: 2026-09-01T00:00:00Z
            product_selection: {type: PRODUCT_SEARCH, sku_ids: [X]}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -15}]}
        """)
    assert linted.findings == []


def test_a_quantity_condition_one_unit_meets_holds_only_in_a_cart(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: any-quantity
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: r
                type: DISCOUNT
                conditions:
                  - {type: CUSTOMER_GROUP, value: gold}
                  - {type: QTY_BY_LINE, operator: ">=", value: 1}
                actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]
        """)
    (found,) = linted.findings
    assert (found["id"], located(found)) == ("cart-only-condition", ("pricing/rules.yaml", 9, 13))
    assert "product pages" in found["message"]


def test_a_cart_only_quantity_break_is_a_note_that_product_pages_never_show_it(
    lint: Lint,
) -> None:
    linted = lint("""\
        rulesets:
          - external_id: bulk
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: ten
                type: DISCOUNT
                conditions: [{type: QTY_BY_PRODUCT, operator: ">=", value: 10}]
                actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]
        """)
    (found,) = linted.findings
    assert (found["id"], found["severity"], located(found)) == (
        "cart-only-condition",
        "info",
        ("pricing/rules.yaml", 7, 22),
    )
    assert "never show this price" in found["message"]


def test_a_quantity_break_by_variant_is_clean(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: bulk
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: ten
                type: DISCOUNT
                conditions: [{type: QTY_BY_VARIANT, operator: ">=", value: 10}]
                actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]
        """)
    assert linted.findings == []


def test_free_shipping_outside_a_discount_code_does_nothing_at_item_level(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: ship
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: free
                type: DISCOUNT
                conditions: []
                actions: [{type: FREE_SHIPPING}]
        discount_codes:
          - codes: [SHIPFREE]
            action: {type: FREE_SHIPPING}
            product_selection: {type: PRODUCTS_ALL}
        """)
    (found,) = linted.findings
    assert (found["id"], located(found)) == ("checkout-only-action", ("pricing/rules.yaml", 8, 19))
    assert found["objects"] == ["ruleset:ship"]


def test_an_expired_ruleset_and_code_point_at_their_expiry(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: spring-2026
            expiry_date: 2026-04-01T00:00:00Z
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
        discount_codes:
          - codes: [OLD10]
            action: {type: PRICE_ADJUST_PERCENT, value: -10}
            product_selection: {type: PRODUCTS_ALL}
            expiry_date: 2026-05-01T00:00:00Z
        """)
    assert [(f["id"], located(f), f["objects"]) for f in linted.findings] == [
        ("expired", ("pricing/rules.yaml", 3, 5), ["ruleset:spring-2026"]),
        ("expired", ("pricing/rules.yaml", 11, 5), ["discount_code:OLD10"]),
    ]
    assert "expired on 2026-04-01" in linted.findings[0]["message"]


def test_an_order_condition_with_a_country_name_for_a_code_matches_nobody(lint: Lint) -> None:
    linted = lint("""\
        order_conditions:
          - name: ZONE
            value: north
            field_sets:
              - {customer.shipping.country_code: Canada}
        rulesets:
          - external_id: north
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: r
                type: DISCOUNT
                conditions: [{type: ORDER_CONDITION, name: ZONE, value: north}]
                actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]
        """)
    (found,) = linted.findings
    assert found["id"] == "unmatchable-order-condition"
    assert located(found) == ("pricing/rules.yaml", 5, 10)
    assert found["objects"] == ["order_condition:ZONE=north", "ruleset:north"]
    assert "'Canada'" in found["message"]
    assert linted.exit_code == 3


def test_an_empty_product_search_prices_nothing(lint: Lint) -> None:
    linted = lint("""\
        rulesets:
          - external_id: nothing
            product_selection: {type: PRODUCT_SEARCH, sku_ids: []}
            rules:
              - {external_id: r, type: DISCOUNT, conditions: [], actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]}
        """)
    (found,) = linted.findings
    assert (found["id"], located(found)) == ("empty-selection", ("pricing/rules.yaml", 3, 5))

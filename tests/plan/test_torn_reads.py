"""A shop that changes while it is being listed: the plan is built on a read that holds together.

The scenario of issue 12, item 7: 250 rulesets, all declared; between two page reads another
run deletes one declared ruleset and adds one of its own, so ``total`` stays 250 and the count
check passes. The sandbox's mid-listing mutation (docs/sandbox.md, "Listing order and
mid-listing changes") makes that happen after exactly the page asked for, in id order and in
a hashed order. The plan must be the plan of the shop as it now is: the deleted ruleset
created again, the added one deleted, and nothing that exists planned as a create.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler import cli, config, errors, pipeline, plan, state
from reconciler.sandbox import Sandbox, serve

from ..conftest import APP_TOKEN, make_bold_client
from ..sandbox import bodies

P = "/price_rules/rules/v2/shops/sandbox-shop"
COUNT = 250
OLD = "2026-01-01T00:00:00"


def ruleset(external_id: str) -> dict[str, Any]:
    body: dict[str, Any] = bodies.ruleset(
        external_id,
        bodies.rule("ten-off", -10, conditions=[]),
        public_name=f"Sale {external_id}",
        product_selection={"type": "PRODUCTS_ALL"},
    )["ruleset"]
    return body


def admin(sandbox: Sandbox) -> httpx.Client:
    """Our app's plain HTTP client on the in-process sandbox, for seeding and looking."""
    return httpx.Client(
        transport=httpx.WSGITransport(app=sandbox.wsgi_app),
        base_url="http://sandbox",
        headers={"Authorization": f"Bearer {APP_TOKEN}"},
    )


def seed(sandbox: Sandbox) -> None:
    """250 rulesets rs-1 … rs-250, stamped long ago (a quiet shop)."""
    with admin(sandbox) as api:
        for n in range(1, COUNT + 1):
            answer = api.put(f"{P}/rulesets/external/rs-{n}", json={"ruleset": ruleset(f"rs-{n}")})
            assert answer.status_code == 201, answer.text
    dump = sandbox.dump()
    for entry in dump["rulesets"]:
        entry["ruleset"]["created_at"] = f"{OLD}.000000+00:00"
        entry["ruleset"]["updated_at"] = f"{OLD}.000Z"
    sandbox.load(dump)


def write_project(root: Path, *, target: str) -> Path:
    (root / "pricing").mkdir(parents=True)
    lines = ["rulesets:"]
    for n in range(1, COUNT + 1):
        lines += [
            f"  - external_id: rs-{n}",
            f"    public_name: Sale rs-{n}",
            "    product_selection: {type: PRODUCTS_ALL}",
            "    rules:",
            "      - external_id: ten-off",
            "        type: DISCOUNT",
            "        conditions: []",
            "        actions: [{type: PRICE_ADJUST_PERCENT, value: -10}]",
        ]
    (root / "pricing" / "rulesets.yaml").write_text("\n".join(lines) + "\n")
    (root / "boldrules.yaml").write_text(
        f"manifests: [pricing/]\ndefault_target: shop\ntargets:\n  shop:\n{target}"
        "safety: {max_deletes: 5, max_delete_percent: 30, max_update_percent: 50}\n"
    )
    return root


def tear(sandbox: Sandbox, *, order: str, deleted: str, after_page: int, times: int = 1) -> None:
    """After serving ``after_page`` of the ruleset listing: delete ``deleted``, add new-{n}."""
    sandbox.set_listing(
        order=order,
        mutate="rulesets",
        after_page=after_page,
        times=times,
        requests=[
            {"method": "DELETE", "path": f"rulesets/external/{deleted}"},
            {
                "method": "PUT",
                "path": "rulesets/external/new-{n}",
                "body": {"ruleset": ruleset("new-{n}")},
            },
        ],
    )


# --- in process: no Date header, so the targeted reads are what catches the tear ------------


@pytest.fixture
def torn_shop(tmp_path: Path) -> Iterator[tuple[Sandbox, config.Project]]:
    sandbox = Sandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    seed(sandbox)
    root = write_project(tmp_path / "shop", target="    sandbox: unused.sqlite\n")
    yield sandbox, config.load_project(root)
    sandbox.close()


def plan_in_process(sandbox: Sandbox, project: config.Project, **options: Any) -> plan.Plan:
    target = project.target(None)
    declared = pipeline.declare(project, target)
    with make_bold_client(sandbox, **options) as bold:
        return pipeline.plan_shop(bold, project, target, declared)


def summary(result: plan.Plan) -> list[str]:
    return sorted(f"{c.action} {c.key.name}" for c in result.changes)


def listed(sandbox: Sandbox) -> list[str]:
    """The rulesets' external ids in the order the sandbox lists them now."""
    with admin(sandbox) as api:
        return [
            r["external_id"]
            for page in (1, 2, 3)
            for r in api.get(f"{P}/rulesets", params={"limit": 100, "page": page}).json()["data"][
                "rulesets"
            ]
        ]


def expected(before: list[str], after: list[str], deleted: str, after_page: int) -> list[str]:
    """The plan of the shop as it is now, unless the whole change fell inside pages already
    served: then no page read afterwards moved, and the read is the shop just before the
    change (a change no paged read can see, as if made a moment after the plan's read)."""
    served = after_page * 100
    if before.index(deleted) < served and after.index("new-1") < served:
        return []
    return [f"create {deleted}", "delete new-1"]


CASES = [
    ("id", "rs-10", 1, 0),  # a page-1 object goes: every later object shifts left, one is missed
    ("id", "rs-10", 2, 0),  # the same, the gap at the edge of pages 2 and 3
    ("id", "rs-150", 1, 0),  # the deleted object was on a page not yet read
    ("hashed", "rs-10", 1, 1),  # the new one (id 252) lands on page 2: one object is missed
    ("hashed", "rs-144", 1, 0),  # listed last; the new one (id 251) lands on page 1: seen twice
    ("hashed", "rs-150", 1, 0),
    ("hashed", "rs-10", 2, 0),  # both changes inside pages 1-2: the read is the shop before them
    ("hashed", "rs-233", 1, 0),  # likewise inside page 1
]


@pytest.mark.parametrize(("order", "deleted", "after_page", "burn"), CASES)
def test_a_listing_torn_by_an_add_and_a_delete_plans_the_shop_as_it_is(
    torn_shop: tuple[Sandbox, config.Project], order: str, deleted: str, after_page: int, burn: int
) -> None:
    sandbox, project = torn_shop
    with admin(sandbox) as api:
        for n in range(burn):  # ids are never reused: this moves where the new one lands
            made = api.put(
                f"{P}/rulesets/external/burn-{n}", json={"ruleset": ruleset(f"burn-{n}")}
            )
            assert made.status_code == 201, made.text
            assert api.delete(f"{P}/rulesets/external/burn-{n}").status_code == 204
    sandbox.set_listing(order=order)
    before = listed(sandbox)
    sandbox.reset(data=False)
    tear(sandbox, order=order, deleted=deleted, after_page=after_page)
    result = plan_in_process(sandbox, project, concurrency=1)
    assert sandbox.stats()["events"]["listing_mutations"] == 2  # the read did tear
    assert summary(result) == expected(before, listed(sandbox), deleted, after_page)
    # Whatever the read saw, nothing that exists is planned as a create, nor the reverse.
    now = set(listed(sandbox))
    assert all((c.action == "create") == (c.key.name not in now) for c in result.changes)


def test_a_quiet_shop_costs_the_calls_it_always_did(
    torn_shop: tuple[Sandbox, config.Project],
) -> None:
    sandbox, project = torn_shop
    sandbox.reset(data=False)
    assert plan_in_process(sandbox, project).empty
    # The shop's identifier, three pages of rulesets, one of order conditions, one of codes, one
    # count of every app's rulesets: the same seven calls as before torn reads were looked for.
    assert sandbox.stats()["by_route"] == {
        "GET /shops/v1/info": {"200": 1},
        "GET P/rulesets": {"200": 4},
        "GET P/order_conditions": {"200": 1},
        "GET P/discount_codes": {"200": 1},
    }


def test_creates_and_deletes_from_a_multi_page_listing_cost_one_call_per_hundred(
    torn_shop: tuple[Sandbox, config.Project],
) -> None:
    sandbox, project = torn_shop
    with admin(sandbox) as api:
        for n in (3, 77, 201):
            assert api.delete(f"{P}/rulesets/external/rs-{n}").status_code == 204
        assert api.put(
            f"{P}/rulesets/external/extra", json={"ruleset": ruleset("extra")}
        ).is_success
    sandbox.reset(data=False)
    result = plan_in_process(sandbox, project)
    assert summary(result) == ["create rs-201", "create rs-3", "create rs-77", "delete extra"]
    # The seven calls of a quiet shop, plus one `external_ids=` read confirming all four at once.
    assert sandbox.stats()["by_route"]["GET P/rulesets"] == {"200": 5}
    assert sandbox.stats()["total"] == 8


def test_a_shop_that_changes_on_every_read_is_refused(
    torn_shop: tuple[Sandbox, config.Project],
) -> None:
    sandbox, project = torn_shop
    tear(sandbox, order="id", deleted="rs-{n}", after_page=1, times=0)
    with pytest.raises(errors.ShopChanging) as caught:
        plan_in_process(sandbox, project)
    assert str(caught.value).startswith(
        "the shop changed while it was being read 3 times; try again when it is quiet"
    )


# --- over a socket, through the command line: Date headers, fresh stamps, exit codes --------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    sandbox = Sandbox()
    sandbox.add_token(APP_TOKEN, app="boldrules-test")
    seed(sandbox)
    with serve(sandbox, port=0) as server:
        target = (
            f"    api_url: {server.url}\n    token_env: BOLDRULES_TEST_TOKEN\n"
            "    rate: 1000\n    burst: 1000\n    concurrency: 1\n"
        )
        yield sandbox, write_project(tmp_path / "shop", target=target)
    sandbox.close()


def boldrules(root: Path, *args: str) -> Result:
    env = {"BOLDRULES_TEST_TOKEN": APP_TOKEN, "NO_COLOR": "1", "HOME": os.environ["HOME"]}
    return CliRunner().invoke(cli.main, ["-C", str(root), *args], env=env, catch_exceptions=False)


@pytest.mark.socket
@pytest.mark.parametrize(("order", "deleted"), [("id", "rs-10"), ("hashed", "rs-144")])
def test_plan_over_http_shows_the_real_deletion_and_no_phantom_create(
    served: tuple[Sandbox, Path], order: str, deleted: str
) -> None:
    sandbox, root = served
    tear(sandbox, order=order, deleted=deleted, after_page=1)
    result = boldrules(root, "plan")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "Plan: 1 to create, 0 to update, 1 to delete."
    assert [line.split(" (")[0] for line in lines if line.startswith(("+ ", "- ", "~ "))] == [
        f"+ ruleset {deleted}",
        "- ruleset new-1",
    ]


@pytest.mark.socket
def test_plan_over_http_refuses_a_shop_that_never_holds_still(
    served: tuple[Sandbox, Path],
) -> None:
    sandbox, root = served
    tear(sandbox, order="id", deleted="rs-{n}", after_page=1, times=0)
    result = boldrules(root, "plan")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: the shop changed while it was being read 3 times; try again when it is quiet ("
    )
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


# --- the stamps: a list read in pages, an object changed since the first page was served ----


def stamped_shop(stamps: list[str]) -> tuple[httpx.MockTransport, list[str]]:
    """150 rulesets in two pages, served at 08:00:00; rs-150's updated_at is the next of
    ``stamps`` at each read (the last one repeats)."""
    asked: list[str] = []
    reads = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.url.path.rsplit('/', 1)[1]} {request.url.params}")
        key = request.url.path.rsplit("/", 1)[1]
        page = int(request.url.params.get("page", 1))
        items: list[dict[str, Any]] = []
        total = 0
        if key == "rulesets" and "include_all_apps" not in request.url.params:
            if page == 1:
                reads["n"] += 1
            changed = stamps[min(reads["n"], len(stamps)) - 1]
            total = 150
            for n in range(page * 100 - 99, min(page * 100, 150) + 1):
                body = ruleset(f"rs-{n}") | {"id": n, "created_at": f"{OLD}Z"}
                body["updated_at"] = changed if n == 150 else f"{OLD}Z"
                items.append(body)
        meta = {"total": total, "total_pages": -(-total // 100), "per_page": 100}
        return httpx.Response(
            200,
            json={"message": "ok", "data": {key: items}, "pagination": meta},
            headers={"Date": "Tue, 01 Dec 2026 08:00:00 GMT"},
        )

    return httpx.MockTransport(handler), asked


def stamped_client(transport: httpx.MockTransport) -> Any:
    from reconciler import client, clientsettings

    return client.BoldClient(
        clientsettings.ClientSettings(
            base_url="https://api.bold.test", shop_identifier="shop", rate=10_000, burst=10_000
        ),
        token=APP_TOKEN,
        transport=transport,
    )


def test_an_object_stamped_during_the_read_costs_one_more_read_not_a_refusal() -> None:
    transport, asked = stamped_shop(["2026-12-01T08:00:00.500Z"])
    with stamped_client(transport) as bold:
        live = state.fetch_live(bold)
    assert len([r for r in live.resources if r.key.kind.value == "ruleset"]) == 150
    listing_pages = [a for a in asked if a.startswith("rulesets limit=100&page=")]
    assert len(listing_pages) == 4  # read twice: the second saw the same stamp, so it held


def test_an_object_that_changes_at_every_read_stops_the_read() -> None:
    transport, _ = stamped_shop(
        ["2026-12-01T08:00:00.100Z", "2026-12-01T08:00:00.200Z", "2026-12-01T08:00:00.300Z"]
    )
    with stamped_client(transport) as bold, pytest.raises(errors.ShopChanging) as caught:
        state.fetch_live(bold)
    assert str(caught.value) == (
        "the shop changed while it was being read 3 times; try again when it is quiet (last "
        "change seen: ruleset rs-150 changed at 2026-12-01T08:00:00.3Z while the list was read)"
    )


def test_stamps_before_the_read_or_a_one_page_list_cost_nothing() -> None:
    transport, asked = stamped_shop(["2026-11-30T23:59:59Z"])
    with stamped_client(transport) as bold:
        state.fetch_live(bold)
    assert len([a for a in asked if a.startswith("rulesets limit=100&page=")]) == 2


@pytest.mark.socket
def test_export_reads_over_http_see_the_shop_as_it_is(served: tuple[Sandbox, Path]) -> None:
    # No plan, so nothing to confirm by targeted reads: the new ruleset's stamp, later than
    # the server's Date on page 1, is what shows the read tore (rs-101 slid onto page 1).
    sandbox, root = served
    tear(sandbox, order="id", deleted="rs-10", after_page=1)
    result = boldrules(root, "export", "--out", "exported")
    assert result.exit_code == 0, result.stderr
    text = (root / "exported" / "rulesets.yaml").read_text()
    assert "external_id: rs-101\n" in text
    assert "external_id: rs-10\n" not in text
    assert "external_id: new-1\n" in text


@pytest.mark.socket
def test_a_saved_plan_is_not_applied_over_an_object_a_torn_read_missed(
    served: tuple[Sandbox, Path],
) -> None:
    # The saved plan creates x-1 … x-30 (more than 25 objects: apply lists the shop). While
    # apply lists it, another run creates x-5 and deletes rs-10, both inside page 1 of the
    # hashed order, already read: the listing looks exactly like the shop the plan was made
    # on. The targeted read of the plan's creates finds x-5, so apply refuses (stale plan)
    # instead of overwriting it.
    sandbox, root = served
    extra = "".join(
        f"  - external_id: x-{n}\n    product_selection: {{type: PRODUCTS_ALL}}\n"
        "    rules: [{external_id: r, type: DISCOUNT, conditions: [],"
        " actions: [{type: PRICE_ADJUST_PERCENT, value: -5}]}]\n"
        for n in range(1, 31)
    )
    manifest_file = root / "pricing" / "rulesets.yaml"
    manifest_file.write_text(manifest_file.read_text() + extra)
    planned = boldrules(root, "plan", "--out", str(root / "plan.json"))
    assert planned.stdout.splitlines()[-1] == "Plan: 30 to create, 0 to update, 0 to delete."
    tear(sandbox, order="hashed", deleted="rs-10", after_page=1)
    sandbox.set_listing(
        **{
            **sandbox.listing.to_dict(),
            "requests": [
                {"method": "DELETE", "path": "rulesets/external/rs-10"},
                {
                    "method": "PUT",
                    "path": "rulesets/external/x-5",
                    "body": {"ruleset": ruleset("x-5")},
                },
            ],
        }
    )
    sandbox.reset(data=False, faults=False)
    applied = boldrules(root, "apply", str(root / "plan.json"), "--yes")
    assert applied.exit_code == 6, applied.stderr
    assert "x-5" in applied.stderr
    assert "PUT P/rulesets/external/{eid}" not in sandbox.stats()["by_route"]  # nothing written

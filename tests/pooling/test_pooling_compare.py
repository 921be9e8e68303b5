"""Solo vs pooled vs lockers on days whose answer is known, with real (short) routing solves."""

from dataclasses import replace

import pytest

from routing.pooling.compare import SolveSettings, compare_day
from routing.pooling.day import parse_day
from routing.pooling.travel import day_travel

FAST = SolveSettings(
    engine="ortools", time_limit_s=0.5, coalition_time_limit_s=0.4, min_time_limit_s=0.2
)


def compared(data, settings=FAST):
    day = parse_day(data)
    return compare_day(day, day_travel(day), settings)


@pytest.fixture(scope="module")
def tower(new_day):
    """Two firms delivering to the same tower from depots 3 km away (each brings its parcels to
    the hub in a van, the default line haul)."""
    return compared(new_day())


def test_two_firms_to_the_same_tower_save_when_pooled(tower):
    figures = tower.plan_figures()
    assert figures["pooled"].cost < figures["solo"].cost
    assert figures["pooled"].vehicle_km < figures["solo"].vehicle_km
    assert figures["pooled"].vehicles < figures["solo"].vehicles
    # Vans emit 240 g CO2 per km unless the day says otherwise, line haul included.
    assert figures["pooled"].transfer_km > 0
    assert figures["pooled"].co2_kg == pytest.approx(0.240 * figures["pooled"].vehicle_km)
    for row in tower.firm_rows():
        assert row["pooled_saving"] > 0, row
    assert tower.splits["pooled"].blocking == []


def test_locker_drops_cut_stops(tower):
    figures = tower.plan_figures()
    assert figures["lockers"].parcels_in_lockers == 5  # all but the XL parcel
    assert figures["lockers"].stops == 2  # the locker and the XL parcel's door
    assert figures["lockers"].stops < figures["pooled"].stops
    assert figures["lockers"].parcels == figures["pooled"].parcels == 6


def test_without_locker_drops_that_plan_is_not_solved(day_data):
    day = parse_day(day_data)
    heard = []
    result = compare_day(day, day_travel(day), FAST, progress=heard.append, locker_drops=False)
    assert result.lockers is None and list(result.splits) == ["pooled"]
    assert not any("locker" in message for message in heard), heard
    summary = result.summary()
    assert list(summary["plans"]) == ["solo", "pooled"] and "lockers" not in summary
    assert all("parcels_in_lockers" not in row for row in summary["firms_table"])


def test_shares_add_up_to_the_pooled_cost(tower):
    for kind, split in tower.splits.items():
        assert split.shapley.method == "exact"
        assert sum(split.shapley.shares.values()) == pytest.approx(split.cost), kind
        assert sum(split.by_parcels.values()) == pytest.approx(split.cost)
        assert sum(split.by_standalone.values()) == pytest.approx(split.cost)
    assert tower.splits["pooled"].cost == pytest.approx(tower.pooled.figures.cost)
    # The pooled CO2 and km are split over the same coalitions; each firm emits less than alone.
    co2 = tower.splits["pooled"].figure_shares["co2_kg"]
    assert sum(co2.values()) == pytest.approx(tower.pooled.figures.co2_kg)
    for row in tower.firm_rows():
        assert row["pooled_co2_kg"] < row["solo_co2_kg"]


def test_every_plan_passes_the_checker(tower):
    assert tower.checks_ok, tower.violations
    assert all(p.report.ok for p in [*tower.solo.values(), tower.pooled, tower.lockers])
    summary = tower.summary()
    assert summary["checker"] == {"ok": True, "violations": []}
    assert summary["savings_vs_solo"]["pooled"]["cost"]["saved"] > 0


def test_identical_firms_get_equal_shares(day_data):
    data = day_data
    data["lockers"] = []
    twin = {**data["firms"][0], "id": "sf-twin"}
    data["firms"] = [data["firms"][0], twin]
    sf = [p for p in data["parcels"] if p["firm"] == "sf"]
    data["parcels"] = sf + [dict(p, id=f"twin-{p['id']}", firm="sf-twin") for p in sf]
    result = compared(data)
    shares = result.splits["pooled"].shapley.shares
    assert shares["sf"] == pytest.approx(shares["sf-twin"], rel=1e-3)
    assert shares["sf"] < result.solo["sf"].figures.cost


def test_a_firm_far_from_the_locker_gains_nothing_from_it(day_data):
    data = day_data
    for parcel in data["parcels"]:
        if parcel["firm"] == "yto":
            parcel["at"] = [parcel["at"][0] + 0.025, parcel["at"][1] + 0.01]  # ~3 km away
            parcel.pop("size", None)
    result = compared(data)
    rows = {r["firm"]: r for r in result.firm_rows()}
    assert rows["yto"]["parcels_in_lockers"] == 0
    assert rows["sf"]["parcels_in_lockers"] == 3
    pooled, lockers = result.splits["pooled"].shapley, result.splits["lockers"].shapley
    # The locker only cuts sf's stops: sf's share falls, yto's stays (within solver noise).
    assert lockers.shares["sf"] < pooled.shares["sf"]
    assert lockers.shares["yto"] == pytest.approx(pooled.shares["yto"], rel=0.05)
    assert result.checks_ok, result.violations


def test_single_firm_day_has_a_trivial_split(day_data):
    data = day_data
    data["firms"] = data["firms"][:1]
    data["parcels"] = [p for p in data["parcels"] if p["firm"] == "sf"]
    result = compared(data)
    split = result.splits["pooled"]
    assert split.shapley.shares == {"sf": pytest.approx(split.cost)}
    # the split divides the day's best arrangement: the firm through the hub or on its own
    own = result.solo["sf"].figures.cost
    assert split.cost == pytest.approx(min(own, result.pooled.figures.cost))
    assert split.all_pooled is (split.cost < own)


def test_a_chosen_locker_without_free_compartments_is_a_clear_result(day_data):
    data = day_data
    data["lockers"].append({"id": "full", "at": data["lockers"][0]["at"], "free": {"S": 0}})
    data["parcels"][0]["locker"] = "full"
    result = compared(
        data,
        SolveSettings(
            engine="ortools",
            time_limit_s=0.5,
            coalition_time_limit_s=0.4,
            min_time_limit_s=0.2,
            shapley_plans=(),
        ),
    )
    reason = result.summary()["lockers"]["to_door"]["sf-1"]
    assert "locker 'full' (the recipient's choice) has no free compartment" in reason
    assert result.lockers.figures.parcels == 6 and result.checks_ok


def test_split_by_parcels_can_leave_the_core_while_shapley_stays_in(day_data):
    # "near" has 8 parcels in the tower; "far" has one parcel 8 km north of the hub. Split by
    # parcels, near pays for most of the trip north and would do better pooling alone.
    tower = day_data["lockers"][0]["at"]
    day_data["lockers"] = []
    day_data["firms"] = [
        dict(day_data["firms"][0], id="near"),
        dict(day_data["firms"][1], id="far"),
    ]
    day_data["parcels"] = [
        {"id": f"n{k}", "firm": "near", "at": [tower[0] + 0.0001 * k, tower[1]]} for k in range(8)
    ] + [{"id": "f1", "firm": "far", "at": [36.15, 120.395]}]
    result = compared(day_data)
    split = result.splits["pooled"]
    assert split.blocking == []
    (blocked,) = split.blocking_simple["by_parcels"]
    assert blocked.firms == ("near",) and blocked.excess > 0
    assert result.summary()["splits"]["pooled"]["simple_splits_blocking"]["by_parcels"]


def test_many_firms_switch_to_sampled_shapley_with_an_interval(day_data):
    # four firms: two pairs of orders visit at most 13 of their 15 coalitions (three firms'
    # 7 they may all visit, and a split that knows every coalition is exact)
    for name in ("ems", "zto"):
        day_data["firms"].append(dict(day_data["firms"][0], id=name))
        day_data["parcels"] += [
            dict(p, id=f"{name}-{p['id']}", firm=name) for p in day_data["parcels"][:2]
        ]
    settings = SolveSettings(
        engine="ortools", time_limit_s=0.5, coalition_time_limit_s=0.4, min_time_limit_s=0.2,
        exact_max_firms=2, permutations=4, shapley_plans=("pooled",),
    )  # fmt: skip
    result = compared(day_data, settings)
    shapley = result.splits["pooled"].shapley
    assert shapley.method == "sampled" and shapley.permutations == 4
    assert sum(shapley.shares.values()) == pytest.approx(shapley.grand_cost)
    assert set(shapley.ci_halfwidth) == {"sf", "yto", "ems", "zto"}
    assert result.checks_ok, result.violations


def test_a_firm_without_parcels_today_pays_nothing(day_data):
    day_data["firms"].append(dict(day_data["firms"][0], id="idle"))
    result = compared(day_data)
    idle = {r["firm"]: r for r in result.firm_rows()}["idle"]
    assert idle["parcels"] == 0 and idle["solo_cost"] == 0
    assert idle["pooled_shapley"] == pytest.approx(0.0, abs=1e-9)  # a null player
    assert idle["pooled_by_parcels"] == 0 and idle["pooled_saving_pct"] == 0


def test_when_the_last_firm_forces_another_van_no_split_is_stable(day_data):
    # Vans carry 4 parcels; each firm has 2 in the tower. Any two firms fill one van, all three
    # need two, so every pair would rather leave the third out: the core is empty.
    tower = day_data["lockers"][0]["at"]
    day_data["lockers"] = []
    day_data["centres"][0]["fleet"] = [{"count": 2, "capacity_parcels": 4, "fixed_cost": 80}]
    day_data["firms"].append(dict(day_data["firms"][0], id="zto"))
    day_data["parcels"] = [
        {"id": f"{firm}-{k}", "firm": firm, "at": [tower[0] + 0.0002 * k, tower[1]]}
        for firm in ("sf", "yto", "zto")
        for k in range(2)
    ]
    settings = SolveSettings(
        engine="ortools", time_limit_s=0.5, coalition_time_limit_s=0.4, min_time_limit_s=0.2,
        shapley_plans=("pooled",),
    )  # fmt: skip
    result = compared(day_data, settings)
    split = result.splits["pooled"]
    assert split.least_core.core_is_empty and split.least_core.excess > 0
    assert {b.firms for b in split.blocking} <= {("sf", "yto"), ("sf", "zto"), ("yto", "zto")}
    assert split.blocking  # Shapley cannot be stable either
    summary = result.summary()["splits"]["pooled"]
    assert summary["core_empty"] is True and summary["least_core"]["excess"] > 0


def test_two_firms_always_have_a_stable_split(tower):
    assert not tower.splits["pooled"].least_core.core_is_empty
    assert tower.summary()["splits"]["pooled"]["core_empty"] is False


def test_each_plan_solve_calls_back_so_a_job_workers_heartbeat_runs(new_day, monkeypatch):
    # OR-Tools holds the GIL for a whole search except to call back: a pool run whose solves
    # had no callback stalled its worker's heartbeat and could lose the job's lease
    import routing.pooling.compare as compare

    given = []

    def recording(*args, **kwargs):
        given.append(kwargs.get("progress"))
        return real(*args, **kwargs)

    real = compare.solve
    monkeypatch.setattr(compare, "solve", recording)
    compared(new_day())
    assert given and all(callable(p) for p in given)


def test_a_pooled_plan_that_delivers_less_than_solo_says_so(day_data):
    day_data["centres"][0]["fleet"] = [{"count": 1, "capacity_parcels": 4}]
    result = compared(day_data, replace(FAST, shapley_plans=()))
    rows = {row["firm"]: row for row in result.firm_rows()}
    assert sum(row["pooled_unserved"] for row in rows.values()) == 2
    assert all(row["solo_unserved"] == 0 for row in rows.values())
    (warning, *_) = result.summary()["warnings"]
    assert warning.startswith("pooled: 2 parcels undelivered against 0")
    # dearer than the solo plans, it has no saving to say was bought by not delivering
    assert warning.endswith("it costs more than the solo plans and delivers 2 parcels fewer")
    day_data["unserved_parcel_cost"] = 0.01  # now leaving parcels behind is cheap
    (warning, *_) = compared(day_data, replace(FAST, shapley_plans=())).summary()["warnings"]
    assert warning.endswith("its savings include not delivering 2 parcels")


def test_a_pooled_plan_that_delivers_what_solo_left_says_its_saving_is_partly_penalty(day_data):
    # the README audit: a saving of 89.6 % was mostly the solo plans' undelivered parcels at
    # 100 each, and no warning said so
    day_data["firms"][0]["fleet"] = [{"count": 1, "capacity_parcels": 1, "fixed_cost": 50}]
    result = compared(day_data, replace(FAST, shapley_plans=()))
    assert sum(p.figures.unserved for p in result.solo.values()) == 2
    assert result.pooled_plans()["pooled"].figures.unserved == 0
    (warning,) = [w for w in result.summary()["warnings"] if w.startswith("pooled:")]
    assert warning == (
        "pooled: the solo plans leave 2 parcels undelivered and this plan 0; each undelivered "
        "parcel costs 100 (unserved_parcel_cost), so 200 of its saving is parcels delivered, "
        "not money the firms spent less"
    )
    day_data["unserved_parcel_cost"] = 0  # no penalty: the saving is all money
    summary = compared(day_data, replace(FAST, shapley_plans=())).summary()
    assert not [w for w in summary["warnings"] if w.startswith("pooled:")]


def test_pooling_passes_its_own_race_setting_whoever_calls(new_day, monkeypatch):
    import routing.pooling.compare as compare

    races = []

    def recording(*args, race=None, **kwargs):
        races.append(race)
        return solve(*args, race=race, **kwargs)

    solve = compare.solve
    monkeypatch.setattr(compare, "solve", recording)
    compared(new_day(), replace(FAST, shapley_plans=()))
    assert races and set(races) == {False}


def test_where_pooling_is_dearer_the_split_is_of_the_firms_alone(day_data):
    # The split used to divide the pooled plan even where it cost more than every firm alone
    # (shares adding up to it, every firm blocking): now it divides the best arrangement.
    day_data["centres"][0]["at"] = [36.3800, 120.6950]  # a hub some 40 km away
    result = compared(day_data, replace(FAST, shapley_plans=("pooled",)))
    solo = {f: plan.figures.cost for f, plan in result.solo.items()}
    assert result.pooled.figures.cost > sum(solo.values())  # everyone alone is cheaper
    split = result.splits["pooled"]
    assert not split.all_pooled and split.cost <= sum(solo.values()) + 1e-9
    assert sum(split.shapley.shares.values()) == pytest.approx(split.cost)
    for firm, share in split.shapley.shares.items():
        assert share <= solo[firm] + 1e-9
    assert not split.blocking
    summary = result.summary()
    best = summary["best_arrangement"]["pooled"]
    assert best["cost"] == pytest.approx(split.cost, abs=0.01) and not best["all_pooled"]
    assert best["all_pooled_cost"] == pytest.approx(result.pooled.figures.cost, abs=0.01)
    # the pooled plan's own (negative) saving is still what savings_vs_solo says
    assert summary["savings_vs_solo"]["pooled"]["cost"]["saved"] < 0
    assert best["savings_vs_solo"]["cost"]["saved"] >= 0
    assert any(w.startswith("pooled: pooling every firm is not") for w in result.warnings())


def test_route_features_costs_add_up_to_each_plans_cost(tower):
    """Each route's ``cost`` counts the driver's paid time at stops as the plan's cost does, so
    routes plus line haul add up to the plan's cost; both kinds share one scheme of names."""
    from routing.pooling.output import route_features

    figures = tower.plan_figures()
    features = route_features(tower)
    assert set(features) == {"solo", "pooled", "lockers"}
    for kind, plan_features in features.items():
        lines = [f["properties"] for f in plan_features if f["geometry"]["type"] == "LineString"]
        assert lines, kind
        for props in lines:
            assert {"distance_m", "duration_s", "cost"} <= set(props), props
            assert not {"distance", "duration"} & set(props), props
        assert figures[kind].unserved == 0
        assert sum(p["cost"] for p in lines) == pytest.approx(figures[kind].cost, abs=0.02)
        haul = sum(p["cost"] for p in lines if p["vehicle"].startswith("line haul"))
        assert haul == pytest.approx(figures[kind].transfer_cost, abs=0.02)
    # The time at stops is in: the routes cost more than the engines' own route cost.
    solo = [f["properties"] for f in features["solo"] if f["geometry"]["type"] == "LineString"]
    assert sum(p["cost"] for p in solo) > figures["solo"].route_cost + 1

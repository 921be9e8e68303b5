"""Time inputs the time audit found silently misread: VROOM fields that were dropped (a misspelt
shift or window, `costs.per_task_hour`), clock strings whose minutes ran past 59, YAML's
base-60 reading of a bare ``10:00`` and scenario clocks that could not pass midnight."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from api.jobs.runner import read_batch
from api.scenario.errors import ScenarioError
from api.scenario.load import load_scenario, setting_value
from api.scenario.schema import Window
from routing.io import read_problem
from routing.io.native import problem_from_dict
from routing.io.vroom import vroom_to_problem
from routing.model import ProblemError, TimeWindow, clock_seconds
from routing.pooling.day import read_day
from routing.yamlfile import load_strict

VROOM = {
    "vehicles": [
        {"id": 1, "start_index": 0, "end_index": 0, "capacity": [4], "time_window": [0, 90000],
         "costs": {"fixed": 10, "per_hour": 3600},
         "breaks": [{"id": 5, "service": 60, "time_windows": [[100, 4000]]}]},
    ],
    "jobs": [{"id": 10, "location_index": 1, "delivery": [1], "service": 60,
              "time_windows": [[0, 50000]]}],
    "shipments": [
        {"amount": [1], "pickup": {"id": 20, "location_index": 1},
         "delivery": {"id": 21, "location_index": 0, "time_windows": [[0, 80000]]}},
    ],
    "matrices": {"car": {"durations": [[0, 100], [100, 0]]}},
}  # fmt: skip


def _vroom(change) -> dict:
    data = copy.deepcopy(VROOM)
    change(data)
    return data


# --- 1. VROOM: a field VROOM does not have is refused, naming the item, not dropped


@pytest.mark.parametrize(
    ("change", "loc", "message"),
    [
        (lambda d: d["vehicles"][0].update(time_windows=[[28800, 36000]]),
         ("vehicles", 0, "time_windows"),
         "vehicle '1': time_windows: is not a known field; did you mean 'time_window'?"),
        (lambda d: d["jobs"][0].update(time_window=[50400, 54000]), ("jobs", 0, "time_window"),
         "job '10': time_window: is not a known field; did you mean 'time_windows'?"),
        (lambda d: d["jobs"][0].update(service_time=900), ("jobs", 0, "service_time"),
         "job '10': service_time: is not a known field; did you mean 'service'?"),
        (lambda d: d["shipments"][0].update(amout=[1]), ("shipments", 0, "amout"),
         "shipment #0: amout: is not a known field; did you mean 'amount'?"),
        (lambda d: d["shipments"][0]["delivery"].update(time_window=[0, 9]),
         ("shipments", 0, "delivery", "time_window"),
         "shipment #0: delivery: time_window: is not a known field; did you mean "
         "'time_windows'?"),
        (lambda d: d["vehicles"][0]["breaks"][0].update(duration=1800),
         ("vehicles", 0, "breaks", 0, "duration"),
         "vehicle '1': break '5': duration: is not a known field; did you mean 'service'?"),
        (lambda d: d["vehicles"][0].update(shift=["08:00", "10:00"]),
         ("vehicles", 0, "shift"),
         "vehicle '1': shift: is not a known field; did you mean 'time_window'?"),
        (lambda d: d["jobs"][0].update(shift=1), ("jobs", 0, "shift"),
         "job '10': shift: is not a known field"),
        (lambda d: d["vehicles"][0]["costs"].update(per_kilometre=5),
         ("vehicles", 0, "costs", "per_kilometre"),
         "vehicle '1': costs: per_kilometre: is not a known field; did you mean 'per_km'?"),
        (lambda d: d.update(jbos=[]), ("jbos",),
         "problem: jbos: is not a known field; did you mean 'jobs'?"),
        (lambda d: d["matrices"]["car"].update(distance=[[0, 1], [1, 0]]),
         ("matrices", "car", "distance"),
         "matrices 'car': distance: is not a known field; did you mean 'distances'?"),
    ],
)  # fmt: skip
def test_an_unknown_vroom_field_is_refused_by_name(change, loc, message) -> None:
    with pytest.raises(ProblemError) as err:
        vroom_to_problem(_vroom(change))
    assert (err.value.loc, str(err.value)) == (loc, message)


@pytest.mark.parametrize(
    ("change", "loc", "message"),
    [
        (lambda d: d["vehicles"][0]["costs"].update(per_task_hour=7200),
         ("vehicles", 0, "costs", "per_task_hour"),
         "vehicle '1': costs: per_task_hour: not supported by gongpei's model"),
        (lambda d: d["jobs"][0].update(service_per_type={"van": 900}),
         ("jobs", 0, "service_per_type"),
         "job '10': service_per_type: not supported by gongpei's model"),
        (lambda d: d["shipments"][0]["pickup"].update(setup_per_type={"van": 60}),
         ("shipments", 0, "pickup", "setup_per_type"),
         "shipment #0: pickup: setup_per_type: not supported by gongpei's model"),
    ],
)  # fmt: skip
def test_vroom_fields_the_model_lacks_are_refused_by_name(change, loc, message) -> None:
    """VROOM charges `per_task_hour` for each hour of service: ignored, a plan cost 610 that
    VROOM costs 1810."""
    with pytest.raises(ProblemError) as err:
        vroom_to_problem(_vroom(change))
    assert (err.value.loc, str(err.value)) == (loc, message)


def test_every_vroom_field_the_model_reads_is_still_accepted() -> None:
    """Descriptions, a vehicle's `type` (it only picks per-type times, refused unless empty),
    neutral values of unsupported fields and Gongpei's `travel` pass."""

    def full(d: dict) -> None:
        vehicle, job = d["vehicles"][0], d["jobs"][0]
        vehicle.update(description="van 1", profile="car", type="van", skills=[1],
                       max_distance=None, speed_factor=1, steps=[], max_tasks=None)
        vehicle["costs"].update(per_km=0, per_task_hour=0)
        vehicle["breaks"][0]["description"] = "lunch"
        job.update(description="front desk", pickup=[0], skills=[1], priority=5, setup=0,
                   location=[120.39, 36.07], setup_per_type={}, service_per_type={})
        d["shipments"][0].update(skills=[1], priority=3)
        d["shipments"][0]["pickup"].update(description="shop", service=30, setup=0)
        d["matrices"]["car"]["distances"] = [[0, 1000], [1000, 0]]
        d["travel"] = {"source": "straight_line"}

    problem = vroom_to_problem(_vroom(full))
    assert problem.vehicles[0].name == "van 1"
    assert problem.job("10").name == "front desk" and problem.job("10").priority == 5
    assert problem.shipment("20-21").pickup.name == "shop"


def test_a_vroom_file_and_batch_with_a_misspelt_window_are_refused(tmp_path: Path) -> None:
    """The CLI's reader and the API's batch reader both refuse it (the batch was queued)."""
    data = _vroom(lambda d: d["jobs"][0].update(time_window=[50400, 54000]))
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ProblemError, match=r"^job '10': time_window: is not a known field"):
        read_problem(path)
    with pytest.raises(ProblemError, match=r"^job '10': time_window: is not a known field"):
        read_batch({"format": "vroom", "problem": data})


# --- 4. clock strings: minutes and seconds 00-59; hours past 23 for the next day


@pytest.mark.parametrize("clock", ["10:75", "10:60", "08:00:99", "99:99", "08:60:00"])
def test_a_clock_with_minutes_or_seconds_past_59_is_refused(clock: str) -> None:
    with pytest.raises(ProblemError) as err:
        TimeWindow.model_validate([clock, "200:00"])
    assert f"'{clock}' is not a clock time like 08:30 or 08:30:00" in str(err.value)
    assert "minutes and seconds run from 00 to 59" in str(err.value)


def test_a_job_window_typo_is_refused_naming_the_job_and_the_value() -> None:
    data = {
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "v", "start": "hub", "end": "hub", "shift": ["08:00", "18:00"]}],
        "jobs": [{"id": "a", "location": 1, "time_windows": [["10:75", "10:99"]]}],
        "matrices": {"van": {"durations": [[0, 600], [600, 0]]}},
    }
    with pytest.raises(ProblemError) as err:
        problem_from_dict(data)
    assert str(err.value).startswith(
        "job 'a': time_windows[0].start: '10:75' is not a clock time"
    )


@pytest.mark.parametrize(
    ("clock", "seconds"),
    [("08:30", 30600), ("8:30", 30600), ("23:59:59", 86399), ("24:00", 86400),
     ("26:00", 93600), ("100:00", 360000)],
)  # fmt: skip
def test_clocks_past_midnight_stay_valid(clock: str, seconds: int) -> None:
    assert clock_seconds(clock) == seconds


# --- 2. YAML: a bare 10:00 is the clock time written, not the base-60 integer 600

DAY = """\
name: bare clocks
travel: {straight_line: true, speed_kmh: 25}
firms:
- id: f1
  depot: [36.0660, 120.3830]
  fleet:
  - {type: van, count: 1, shift: [10:00, 26:00]}
centres:
- id: hub
  at: [36.0669, 120.3820]
  fleet:
  - {type: van, count: 1}
parcels:
- {id: a, firm: f1, at: [36.0700, 120.3900], window: [14:00, 16:00:30]}
"""


def test_the_strict_loader_reads_a_bare_clock_as_text() -> None:
    data = load_strict("t: [10:00, 08:00, 1:30:00, -1:30, 12, 1.5, 0x10, 1_000, 2026-11-28]")
    assert data["t"][:4] == ["10:00", "08:00", "1:30:00", "-1:30"]
    assert data["t"][4:8] == [12, 1.5, 16, 1000]  # other numbers are still numbers
    assert str(data["t"][8]) == "2026-11-28"


def test_a_pooling_day_reads_bare_clock_times_as_written(tmp_path: Path) -> None:
    """`shift: [10:00, 18:00]` was 00:10 to 00:18: every solo parcel unserved, a bogus saving."""
    path = tmp_path / "day.yaml"
    path.write_text(DAY)
    day = read_day(path)
    shift, window = day.firms[0].fleet[0].shift, day.parcels[0].window
    assert (shift.start, shift.end) == (10 * 3600, 26 * 3600)
    assert (window.start, window.end) == (14 * 3600, 16 * 3600 + 30)


def test_a_sweep_or_set_value_reads_bare_clock_times_as_written() -> None:
    assert setting_value("shift=[08:00,12:00]", "[08:00, 12:00]") == ["08:00", "12:00"]
    assert setting_value("s", "[[08:00, 12:00], [10:00, 18:00]]") == [
        ["08:00", "12:00"],
        ["10:00", "18:00"],
    ]


# --- 5. scenario clocks: shifts at and past midnight, and messages that say how to write them

SCENARIO = """\
name: t
map: {source: demo, bbox: [24.92, 60.16, 24.96, 60.18]}
demand: {seed: 0, parcels_per_point: [1, 20]}
lockers:
  existing: [{id: e1, at: {rel: [0.2, 0.2]}, compartments: {S: 4}}]
  candidates: {building_types: [apartments]}
firms:
  - name: a
    depot: {rel: [0.5, 0.5]}
    fleet:
      - {count: 2, shift: SHIFT}
    parcels: {count: 10, seed: 0, time_windows: [{window: [20:00, 24:00], share: 0.5}]}
centres: [{id: hub, at: {rel: [0.5, 0.5]}, fleet: [{profile: van}]}]
run: {seed: 0, unserved_parcel_cost: 100}
"""


def _scenario(tmp_path: Path, shift: str):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.replace("SHIFT", shift))
    return load_scenario(path)


def test_a_scenario_plans_shifts_at_and_past_midnight(tmp_path: Path) -> None:
    """Bare clocks too: a bare 10:00 was 600, refused as "Input should be a valid string"."""
    firm = _scenario(tmp_path, "[18:00, 26:00]").spec.firms[0]
    assert firm.fleet[0].shift.seconds() == (18 * 3600, 26 * 3600)
    assert firm.parcels.time_windows[0].window.seconds() == (20 * 3600, 24 * 3600)
    shift = _scenario(tmp_path, '["16:00", "24:00"]').spec.firms[0].fleet[0].shift
    assert shift.seconds() == (16 * 3600, 24 * 3600)


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        ('["18:00", "02:00"]', "window ends (02:00) before it starts (18:00); for one that "
         "ends after midnight, write 26:00"),
        ('["08:00", "08:00"]', "window is empty: it starts and ends at 08:00"),
        ('["10:75", "18:00"]', 'a clock time like "08:30" is required (HH:MM or HH:MM:SS, '
         "minutes and seconds 00-59; after midnight 24:00, 26:00 for 2 a.m. the next day) "
         "(got '10:75')"),
        ("[600, 1080]", 'a clock time like "08:30" is required (HH:MM or HH:MM:SS, minutes '
         "and seconds 00-59; after midnight 24:00, 26:00 for 2 a.m. the next day) (got 600)"),
    ],
)  # fmt: skip
def test_a_scenario_clock_error_says_how_to_write_the_time(tmp_path, shift, message) -> None:
    with pytest.raises(ScenarioError) as err:
        _scenario(tmp_path, shift)
    assert err.value.problems[0] == f"{tmp_path / 's.yaml'}:11: firms[0].fleet[0].shift: {message}"


def test_scenario_windows_compare_times_not_text() -> None:
    """As text, "9:00" sorts after "10:00": the window was refused as ending before it starts."""
    assert Window.model_validate(["9:00", "10:00"]).seconds() == (9 * 3600, 10 * 3600)

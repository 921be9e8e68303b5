"""/v1/pool-runs: a planner's day of several firms, alone against pooled, solved by a worker;
each firm taking part reads its own result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import null, select
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import Firm, Job, PoolParticipant
from api.deps import (
    HexId,
    any_key,
    errors,
    firm_key,
    get_db,
    get_settings,
    planner_key,
    unprocessable,
)
from api.idempotency import RESPONSES as IDEMPOTENT_RESPONSES
from api.idempotency import Attach, RequestKey, once, request_key
from api.lockers import day_locker
from api.paging import newest_first, next_cursor
from api.routers.jobs import JobStatus, add_job_routes, finished, owned_job, queued
from api.schemas.jobs import JobAccepted
from api.schemas.pooling import PoolRunPage, PoolSubmit
from api.search import Query as LockerQuery
from api.settings import Settings
from network.datum import DatumError, check_datum, from_wgs84
from network.store import source_profiles
from routing.pooling.day import DROP_JOB_PREFIX, Day, parse_day, with_lockers
from routing.pooling.errors import PoolingError
from routing.pooling.figures import UNITS, saving_percent
from routing.pooling.travel import road_profiles

router = APIRouter(tags=["pooling"])

#: The farthest the platform's lockers are looked for around a day's parcels.
LOCKER_REACH_M = 50_000.0


@router.post(
    "/v1/pool-runs",
    response_model=JobAccepted,
    status_code=202,
    responses={**errors(401, 403, 429), **IDEMPOTENT_RESPONSES},
    summary="Compare several firms' day alone, pooled and pooled with locker drops (planner)",
)
def submit_pool(
    body: PoolSubmit,
    request: Request,
    firm: Firm = Depends(planner_key),
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
    key: RequestKey | None = Depends(request_key),
) -> dict | JSONResponse:
    """The day is read now, so a bad field is a 422 naming the item; the solves (every firm
    alone, pooled, and each coalition for the Shapley split) run in a worker. Send an
    `Idempotency-Key` to retry safely after a timeout: a retry gets the same run."""
    return once(
        db, key, firm_id=firm.id, body=body,
        submit=lambda attach: _queued_pool(body, request, firm, db, settings, attach),
    )  # fmt: skip


def _queued_pool(
    body: PoolSubmit,
    request: Request,
    firm: Firm,
    db: Database,
    settings: Settings,
    attach: Attach,
) -> dict:
    """The day checked and queued (a 202's body), its job named on its idempotency key."""
    payload = body.model_dump()
    day_data = dict(payload["day"])
    if day_data.get("lockers_from") is not None:
        raise unprocessable(
            ["body", "day", "lockers_from"],
            "a pooling run cannot name a siting plan file: list the lockers under 'lockers', "
            "or ask for live_lockers",
        )
    network = _travel_on_the_server_map(day_data, settings)
    try:
        day = parse_day(day_data)
        if body.live_lockers:
            platform = _platform_lockers(request, day)
            day = with_lockers(day, platform)
            given = [_in_datum(locker, day_data.get("datum")) for locker in platform]
            day_data["lockers"] = [*(day_data.get("lockers") or []), *given]
    except PoolingError as err:
        raise unprocessable(["body", "day", *_field(err)], str(err)) from None
    participants = _participants(db, day, body.firms_on_platform)
    if network:
        known = source_profiles(network)
        for profile in road_profiles(day):
            if profile not in known:
                raise unprocessable(
                    ["body", "day", "travel"],
                    f"the server's map has no roads for profile '{profile}' (it has "
                    f"{', '.join(known)}); ask for straight_line: true",
                )
        payload["network"] = network
    payload["day"] = day_data

    def take_part(session: Session, job_id: str) -> None:
        session.add_all(
            PoolParticipant(job_id=job_id, firm_id=firm_id, day_firm=day_firm)
            for day_firm, firm_id in participants.items()
        )
        attach(session, job_id)

    return queued(db, settings, kind="pool", firm=firm, payload=payload, also=take_part)


def _field(err: PoolingError) -> list[Any]:
    """The path in the day of the field ``err`` names, where known: the day is read by
    pydantic, and the error that PoolingError was raised while handling has the path its
    message gives in words (that of the first problem, as the message); a bad `datum` is
    the day's own field."""
    read = err.__context__
    if isinstance(read, DatumError):
        return ["datum"]
    return list(read.errors()[0]["loc"]) if isinstance(read, ValidationError) else []


def _in_datum(locker: dict[str, Any], datum: Any) -> dict[str, Any]:
    """A platform locker (WGS 84) in the day's own ``datum`` (already checked by `parse_day`):
    the worker reads the stored day again, converting every point of it to WGS 84, so a
    locker appended as WGS 84 to a GCJ-02 day ended up about 500 m off its place."""
    lat, lon = from_wgs84(check_datum(datum), *locker["at"])
    return {**locker, "at": [lat, lon]}


def _travel_on_the_server_map(day: dict[str, Any], settings: Settings) -> str | None:
    """Point the day's travel at the server's own map (returned), unless it asks for straight
    lines; a request never names a file for the server to read. A travel that is not an object
    (say "straight_line") is left for `parse_day` to refuse, as `gongpei pool` does: it is no
    request for the map."""
    travel = day.get("travel")
    if travel is None:  # left out (or null): the server's map
        travel = {}
    elif not isinstance(travel, dict):
        return None
    if travel.get("source") == "straight_line":  # a batch's spelling: no map was named
        raise unprocessable(
            ["body", "day", "travel", "source"],
            "'straight_line' is how a batch asks for straight lines; a pooling day says "
            "straight_line: true (and no 'source')",
        )
    if "source" in travel:
        raise unprocessable(
            ["body", "day", "travel", "source"],
            "a pooling run cannot name a map: travel is timed on this server's map (leave "
            "'source' out) or by straight lines (straight_line: true)",
        )
    if travel.get("straight_line"):
        return None
    if not settings.map_network:
        raise unprocessable(
            ["body", "day", "travel"],
            "this server has no road network (GONGPEI_MAP_NETWORK): ask for straight_line: true",
        )
    day["travel"] = {**travel, "source": settings.map_network}
    return settings.map_network


def _participants(db: Database, day: Day, names: dict[str, str]) -> dict[str, int]:
    """Day firm id -> the platform firm that may read its own result (named in ``names``, or
    sharing the day firm's id as its name)."""
    ids = day.firm_ids()
    for day_id in names:
        if day_id not in ids:
            raise unprocessable(["body", "firms_on_platform", day_id], "not a firm of the day")
    wanted = {day_id: names.get(day_id, day_id) for day_id in ids}
    with db.reading() as session:
        rows = session.execute(
            select(Firm.name, Firm.id).where(Firm.name.in_(wanted.values()), Firm.role == "firm")
        )
        found = {name: firm_id for name, firm_id in rows}
    taken: dict[str, str] = {}
    for day_id, name in wanted.items():
        if day_id in names and name not in found:
            raise unprocessable(["body", "firms_on_platform", day_id], _not_a_firm(db, name))
        if name in found and name in taken:
            raise unprocessable(
                ["body", "firms_on_platform", day_id],
                f"platform firm '{name}' is already day firm '{taken[name]}'",
            )
        taken[name] = day_id
    return {day_id: found[name] for day_id, name in wanted.items() if name in found}


def _not_a_firm(db: Database, name: str) -> str:
    """Why platform firm ``name`` cannot read a pool run's firm result: no firm has that name,
    or it is a planner's or admin's (only a firm-role key reads `firm-result`)."""
    with db.reading() as session:
        role = session.scalar(select(Firm.role).where(Firm.name == name))
    if role is None:
        return f"no platform firm '{name}'"
    return (
        f"platform firm '{name}' has a {role} key, not a firm-role key: only a firm reads "
        "its own result (`firm-result`)"
    )


def _platform_lockers(request: Request, day: Day) -> list[dict[str, Any]]:
    """The platform's lockers that could serve the day's parcels, with their free doors now."""
    lat, lon, reach = day.parcels_reach()
    query = LockerQuery(lat, lon, min(reach, LOCKER_REACH_M), None, True)
    index = request.app.state.locker_index
    lockers: list[dict[str, Any]] = []
    cursor = None
    while True:
        items, cursor = index.search(query, limit=500, cursor=cursor)
        lockers += [day_locker(item) for item in items]
        if cursor is None:
            return lockers


@router.get(
    "/v1/pool-runs",
    response_model=PoolRunPage,
    responses=errors(401, 422),
    summary="The pooling runs the caller may read, newest first (planner or firm)",
    description="A planner's (or admin's) key lists the runs it posted, each readable at "
    "`GET /v1/pool-runs/{id}` and its `result`; a firm's key lists the runs it takes part "
    "in, each with its id in the day (`firm`) and readable at "
    "`GET /v1/pool-runs/{id}/firm-result`.",
)
def list_pool_runs(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    caller: Firm = Depends(any_key),
    db: Database = Depends(get_db),
) -> dict:
    """The runs whose status or firm-result the caller may read, as `owned_job` and
    `pool_firm_result` decide: a planner had to keep every job id it was given."""
    if caller.role == "firm":
        query = (
            select(Job, PoolParticipant.day_firm)
            .join(PoolParticipant, PoolParticipant.job_id == Job.id)
            .where(PoolParticipant.firm_id == caller.id)
        )
    else:
        query = select(Job, null()).where(Job.kind == "pool", Job.firm_id == caller.id)
    query = newest_first(query, created=Job.created_at, ident=Job.id, cursor=cursor, limit=limit)
    with db.reading() as session:
        rows = session.execute(query).all()
        items = [
            {
                "id": job.id,
                "status": job.status,
                "day": job.payload["day"].get("name", "day"),
                "firm": day_firm,
                "created_at": job.created_at,
                "finished_at": job.finished_at,
            }
            for job, day_firm in rows[:limit]
        ]
    return {"items": items, "next_cursor": next_cursor([job for job, _ in rows], limit)}


RESULT_DESCRIPTION = (
    "The comparison as `gongpei pool` writes it to summary.json (each "
    "plan's figures and savings against solo, the Shapley and simple splits with the "
    "core check, one row per firm, locker drops, the checker's verdict), or every "
    "plan's routes and line haul as GeoJSON with `?format=geojson`. `best_arrangement` "
    "gives, per split plan, the day's cheapest arrangement of the firms (`groups`: firms "
    "pooled together, or one firm on its own `solo` plan), its `cost`, figures and "
    "`savings_vs_solo`, next to `all_pooled_cost`: where `all_pooled` is false some firms "
    "pooling apart or alone cost less than every firm pooled, and the splits divide that "
    "arrangement's cost (`savings_vs_solo` stays the every-firm pooled plan's). A firm's "
    "row reads that arrangement too: its line haul and undelivered parcels are its group's "
    "plan's (none of the first where `<plan>_on_its_own`), as its share and CO2 are. The "
    "example is the request example's answer."
)
#: A real answer: the request example's day (`PoolSubmit`), solved.
RESULT_EXAMPLE: dict[str, Any] = json.loads(
    Path(__file__).parents[1].joinpath("examples", "pool.result.json").read_text()
)

#: Why a failed run failed, as a firm taking part reads its status: the reason may name
#: another firm's parcel and where it goes.
FAILED_FOR_FIRMS = "failed; the planner who posted it can read why in its status"


def pool_status(db: Database, caller: Firm, job_id: str) -> Job | dict[str, Any]:
    """A pool run's status for the planner who posted it, or for a firm taking part (one
    `GET /v1/pool-runs` lists), which reads a failed run's reason only as `FAILED_FOR_FIRMS`.
    Any other caller gets a 404, as if the run did not exist."""
    if caller.role != "firm":
        return owned_job(db, caller, job_id, "pool")
    job, _ = _taking_part(db, job_id, caller)
    status = {name: getattr(job, name) for name in JobStatus.model_fields}
    return {**status, "error": FAILED_FOR_FIRMS if job.status == "failed" else None}


add_job_routes(
    router,
    path="/v1/pool-runs",
    kind="pool",
    key=planner_key,
    status_key=any_key,
    status_reader=pool_status,
    status_description="For the planner who posted the run, or a firm taking part in it (one "
    "`GET /v1/pool-runs` lists); a firm reads a failed run's reason from the planner.",
    status_summary="Status and progress of a pooling run (planner, or a firm taking part)",
    result="result",
    result_summary="What pooling saves each firm, and the routes (planner)",
    result_description=RESULT_DESCRIPTION,
    result_example=RESULT_EXAMPLE,
)


#: A firm's own figures in its row of the day's table, by name or by plan-prefixed suffix. The
#: row's other columns are splits in proportion to day totals (by parcels, by standalone cost)
#: or other rules' shares: with the firm's own numbers they give away the other firms'.
OWN_FIGURES = ("firm", "parcels", "solo_cost", "solo_vehicle_km", "solo_co2_kg",
               "solo_unserved", "parcels_in_lockers")  # fmt: skip
OWN_PLAN_FIGURES = ("shapley", "shapley_ci", "saving", "saving_pct", "transfer_cost",
                    "vehicle_km", "co2_kg", "unserved", "on_its_own")  # fmt: skip

#: What a firm reads of each split: how it was made and whether it is stable, never a share.
FIRM_SPLIT_KEYS = ("method", "permutations", "stopped_by", "in_core", "core_empty", "all_pooled")

FIRM_RESULT_EXAMPLE: dict[str, Any] = {
    "pool_run": "9b1f0c2d3e4a5b6c7d8e9f0a1b2c3d4e",
    "firm": "sf",
    "figures": {
        "firm": "sf",
        "parcels": 3,
        "solo_cost": 160.1,
        "solo_vehicle_km": 21.4,
        "pooled_shapley": 116.0,
        "pooled_saving": 44.1,
        "pooled_saving_pct": 27.55,
        "pooled_transfer_cost": 12.3,
        "pooled_vehicle_km": 14.2,
        "pooled_on_its_own": False,
    },
    "splits": {"pooled": {"method": "exact", "in_core": True, "all_pooled": True}},
    "savings_vs_solo": {
        "pooled": {
            "cost": {"solo": 160.1, "pooled": 116.0, "saved": 44.1, "percent": 27.55},
            "vehicle_km": {"solo": 21.4, "pooled": 14.2, "saved": 7.2, "percent": 33.64},
        }
    },
    "locker_drops": [{"locker": "platform-12", "platform_locker_id": 12, "parcels": ["sf-1"]}],
    "deliveries": {
        "solo": [
            {
                "parcel": "sf-1",
                "vehicle": "depot:sf:van:0.0",
                "arrival_s": 29400.0,
                "locker": None,
            }
        ],
        "pooled": [
            {
                "parcel": "sf-1",
                "vehicle": "centre:hub:van:0.0",
                "arrival_s": 29105.5,
                "locker": None,
            }
        ],
        "lockers": [
            {
                "parcel": "sf-1",
                "vehicle": "centre:hub:van:0.0",
                "arrival_s": 29010.2,
                "locker": "platform-12",
            }
        ],
    },
    "undelivered": {
        "pooled": [{"parcel": "sf-3", "reason": "its time windows close before any van arrives"}]
    },
    "units": UNITS,
}



def _taking_part(db: Database, job_id: str, firm: Firm) -> tuple[Job, str]:
    """The pool run and the firm's id in its day, where the firm takes part; a 404 for any
    other firm, as if the run did not exist (its existence would tell whose day it is)."""
    with db.reading() as session:
        job = session.get(Job, job_id)
        day_id = session.scalar(
            select(PoolParticipant.day_firm).where(
                PoolParticipant.job_id == job_id, PoolParticipant.firm_id == firm.id
            )
        )
    if job is None or day_id is None:
        raise HTTPException(404, f"pool {job_id} not found")
    return job, day_id

@router.get(
    "/v1/pool-runs/{job_id}/firm-result",
    responses={
        200: {
            "description": "The calling firm's own part of a finished pooling run: its own "
            "figures (parcels; its cost, vehicle-km and CO2 alone; under each pooled plan its "
            "Shapley share of the cost, vehicle-km and CO2, its saving and its line haul; its "
            "parcels in lockers and left undelivered), how each plan's cost was split (its "
            "`all_pooled` false where the split is of a cheaper arrangement than every firm "
            "pooled, which the planner's result names), its "
            "own savings against "
            "delivering alone, and which of its parcels the plan with locker drops brings to "
            "which locker (`locker_drops`; `platform_locker_id` is the locker at `/v1/lockers` "
            "for a live one, null for one the day lists), when and in which vehicle each of "
            "its parcels arrives under each plan (`deliveries`: `arrival_s` in seconds from "
            "the day's midnight, `locker` for a locker drop), which of its parcels each plan "
            "leaves undelivered and why (`undelivered`) and the figures' `units` (a cost is "
            "in the day's own money). Nothing of the other firms, nor the day's totals, "
            "from which their figures would follow.",
            "content": {"application/json": {"example": FIRM_RESULT_EXAMPLE}},
        },
        **errors(401, 403, 404, 409),
    },
    summary="What a pooling run saves the calling firm (firm)",
)
def pool_firm_result(
    job_id: HexId, firm: Firm = Depends(firm_key), db: Database = Depends(get_db)
) -> dict[str, Any]:
    """A firm taking part in a planner's pooling run reads its own figures, never the others'."""
    job, day_id = _taking_part(db, job_id, firm)
    if job.status == "failed":  # its reason may name another firm's parcel and where it goes
        raise HTTPException(409, f"pool {job_id} {FAILED_FOR_FIRMS}")
    summary = finished(db, job)
    (row,) = [r for r in summary["firms_table"] if r["firm"] == day_id]
    return {
        "pool_run": job_id,
        "firm": day_id,
        "figures": own_figures(row, list(summary["splits"])),
        "splits": {
            kind: {
                k: split.get(k)  # `stopped_by` is newer than some stored runs
                for k in FIRM_SPLIT_KEYS
            }
            for kind, split in summary["splits"].items()
        },
        "savings_vs_solo": {kind: own_savings(row, kind) for kind in summary["splits"]},
        "locker_drops": own_drops(summary, job.payload["day"], day_id),
        "deliveries": own_deliveries(
            finished(db, job, "geojson"), summary, job.payload["day"], day_id
        ),
        "undelivered": own_undelivered(summary, day_id),
        "units": UNITS,
    }


def own_deliveries(
    routes: dict[str, Any] | None, summary: dict[str, Any], day: dict[str, Any], firm: str
) -> dict[str, list[dict[str, Any]]]:
    """Each plan's stops bringing the firm's own parcels, in order of arrival: the parcel, the
    vehicle (in a pooled plan the shared centre's), its arrival (seconds from midnight) and
    the locker of a locker drop (else null). The planner's GeoJSON holds every firm's stops,
    and a firm had no way to learn when, or in which van, its own parcels arrive."""
    own = {p.get("id") for p in day.get("parcels") or [] if p.get("firm") == firm}
    locker_of = {
        parcel: drop["locker"]
        for drop in (summary.get("lockers") or {}).get("drops", [])
        for parcel in drop["parcels"]
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for feature in (routes or {}).get("features", []):
        props = feature.get("properties") or {}
        if props.get("type") != "job":
            continue
        task = str(props.get("id"))
        drop = task.startswith(DROP_JOB_PREFIX)
        for parcel in props.get("parcel_ids") or [task]:  # runs stored before parcel_ids
            if parcel in own:
                out.setdefault(props["plan"], []).append(
                    {
                        "parcel": parcel,
                        "vehicle": props.get("vehicle"),
                        "arrival_s": props.get("arrival_s"),
                        "locker": locker_of.get(parcel) if drop else None,
                    }
                )
    return {plan: sorted(stops, key=lambda s: s["arrival_s"]) for plan, stops in out.items()}


def own_undelivered(summary: dict[str, Any], firm: str) -> dict[str, list[dict[str, str]]]:
    """Each plan's parcels of the firm left undelivered, with the solver's reason (plans
    delivering all of them left out): its share counts ``unserved_parcel_cost`` for each, and
    it read neither how many nor which."""
    out = {
        plan: [{"parcel": r["parcel"], "reason": r["reason"]} for r in rows if r["firm"] == firm]
        for plan, rows in (summary.get("unserved") or {}).items()
    }
    return {plan: rows for plan, rows in out.items() if rows}


def own_figures(row: dict[str, Any], plans: list[str]) -> dict[str, Any]:
    """The firm's own columns of its row in the day's table (see ``OWN_FIGURES``)."""
    names = {*OWN_FIGURES, *(f"{plan}_{name}" for plan in plans for name in OWN_PLAN_FIGURES)}
    return {name: value for name, value in row.items() if name in names}


def own_savings(row: dict[str, Any], plan: str) -> dict[str, dict[str, float | None]]:
    """The firm's figures alone against its Shapley shares of a pooled plan's: what pooling
    saves this firm, where the day summary's savings are the whole day's. The cost's saving is
    the row's own (`<plan>_saving`, `<plan>_saving_pct`, from unrounded figures): worked out
    again from the rounded cost and share it was 0.01 off the row's, in the same answer."""
    out = {}
    for name, shared in (("cost", "shapley"), ("vehicle_km", "vehicle_km"), ("co2_kg", "co2_kg")):
        solo, pooled = row.get(f"solo_{name}"), row.get(f"{plan}_{shared}")
        if solo is None or pooled is None:
            continue
        saved = solo - pooled
        out[name] = {
            "solo": solo,
            "pooled": pooled,
            "saved": round(saved, 2),
            "percent": saving_percent(solo, saved),
        }
        if name == "cost" and f"{plan}_saving" in row:
            out[name].update(saved=row[f"{plan}_saving"], percent=row[f"{plan}_saving_pct"])
    return out


def own_drops(summary: dict[str, Any], day: dict[str, Any], firm: str) -> list[dict[str, Any]]:
    """The firm's own parcels that the plan with locker drops brings to a locker, by locker
    (for a platform locker also its id at `/v1/lockers`, where the firm reserves the doors):
    a drop's other parcels and its compartments, which hold other firms' parcels too, are
    left out."""
    own = {p.get("id") for p in day.get("parcels") or [] if p.get("firm") == firm}
    drops = []
    for drop in (summary.get("lockers") or {}).get("drops", []):
        parcels = [p for p in drop["parcels"] if p in own]
        if parcels:
            number = drop["locker"].removeprefix("platform-")
            platform = int(number) if number != drop["locker"] and number.isdigit() else None
            drops.append(
                {"locker": drop["locker"], "platform_locker_id": platform, "parcels": parcels}
            )
    return drops

"""/v1/batches (firms) and /v1/siting-runs (planners): solve jobs run by worker processes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.check_pool import CheckPool, vehicle_profiles
from api.db.engine import Database
from api.db.models import Firm, Job, Solution
from api.deps import (
    HexId,
    errors,
    firm_key,
    get_db,
    get_settings,
    planner_key,
    unprocessable,
)
from api.fleet import with_registered_vehicles
from api.idempotency import RESPONSES as IDEMPOTENT_RESPONSES
from api.idempotency import Attach, RequestKey, once, request_key
from api.jobs import queue
from api.jobs.runner import read_batch, siting_records
from api.paging import newest_first, next_cursor
from api.schemas import jobs as job_bodies
from api.schemas.jobs import BatchSubmit, JobAccepted, SitingSubmit
from api.settings import Settings
from network.store import source_profiles
from routing.io.native import TravelError, check_travel
from routing.model import ProblemError

router = APIRouter(tags=["jobs"])

PROGRESS_DESCRIPTION = (
    "How far the job's current attempt (`attempts`) is, from 0 to 1 (exactly 1 once done); a "
    "job taken over after its worker stopped starts again from 0. A batch: the share of its time "
    "limit its search has run. A pool run: the share of its routing solves done (each firm's "
    "plan, the two pooled plans, then every coalition each split needs; coalitions solve "
    "faster than the day's plans, so it rises faster towards the end). A siting run: 0 until "
    "done. The worker writes it about once a second."
)


CANCEL_DESCRIPTION = (
    "A queued job is cancelled at once and never runs. A running one is marked cancelled at "
    "once (its status says so, and it will have no result); its worker hears of it within "
    "about a second and stops: a batch at its search's next plan (a fraction of a second; "
    "before OR-Tools' first plan, a few seconds on 3,000 stops), a pool run likewise within "
    "its solve in progress, a siting run at once. A job that has ended (done, failed, "
    "cancelled) is a 409."
)
#: How a job kind is named in the API's summaries.
KIND_NAMES = {"batch": "batch", "siting": "siting run", "pool": "pooling run"}


class JobStatus(job_bodies.JobStatus):
    """The job status with what `progress` means, documented beside the routes that serve
    it: its meaning is how `api.jobs.runner` reports each kind of job."""

    progress: float = Field(description=PROGRESS_DESCRIPTION, examples=[0.4])


class BatchPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [job_bodies.STATUS_EXAMPLE], "next_cursor": None}]
        }
    )

    items: list[JobStatus]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next (older) page; null on the last page."
    )


def queued(
    db: Database,
    settings: Settings,
    *,
    kind: str,
    firm: Firm,
    payload: dict[str, Any],
    also: Callable[[Session, str], None] | None = None,
) -> dict[str, str]:
    """Queue the firm's job (the body of a 202), or a 429 where the firm already has
    `max_active_jobs` queued or running (`GONGPEI_MAX_ACTIVE_JOBS`)."""
    try:
        job_id = queue.submit(
            db, kind=kind, firm_id=firm.id, payload=payload, also=also,
            max_active=settings.max_active_jobs,
        )  # fmt: skip
    except queue.QueueFull as err:
        raise HTTPException(429, str(err), {"Retry-After": "60"}) from None
    return {"id": job_id, "status": "queued"}


def owned_job(db: Database, firm: Firm, job_id: str, kind: str) -> Job:
    """The caller's own job of this kind; anyone else's is a 404, as if it did not exist."""
    with db.reading() as session:
        job = session.get(Job, job_id)
        if job is None or job.firm_id != firm.id or job.kind != kind:
            raise HTTPException(404, f"{kind} {job_id} not found")
        return job


def finished(db: Database, job: Job, fmt: str = "json") -> dict[str, Any]:
    """A finished job's JSON result (or its GeoJSON); 409 while it runs or once it failed, with
    the reason, which is for the job's owner only: it may name any input of the job (a pool
    run's firm-result tells a firm taking part that the run failed before calling this)."""
    if job.status in ("queued", "running"):
        raise HTTPException(409, f"job {job.id} is {job.status}; poll its status until done")
    if job.status == "failed":
        raise HTTPException(409, f"job {job.id} failed: {job.error}")
    if job.status == "cancelled":
        raise HTTPException(409, f"job {job.id} was cancelled; it has no result")
    with db.reading() as session:
        solution = session.get(Solution, job.id)
        return solution.geojson if fmt == "geojson" else solution.result


def job_result(db: Database, job: Job, fmt: str) -> JSONResponse:
    """A finished job's JSON result or GeoJSON, with its media type."""
    body = finished(db, job, fmt)
    media = "application/geo+json" if fmt == "geojson" else "application/json"
    return JSONResponse(body, media_type=media)


def add_job_routes(
    router: APIRouter,
    *,
    path: str,
    kind: str,
    key: Callable[..., Any],
    status_summary: str,
    result: str,
    result_summary: str,
    result_description: str,
    result_example: dict[str, Any],
    result_model: type[BaseModel] | None = None,
    geojson_example: dict[str, Any] | None = None,
    status_key: Callable[..., Any] | None = None,
    status_reader: Callable[[Database, Firm, str], Any] | None = None,
    status_description: str | None = None,
) -> None:
    """A job resource's `GET {path}/{job_id}` (status), `GET {path}/{job_id}/{result}`
    (JSON, or GeoJSON with `?format=geojson`) and `POST {path}/{job_id}/cancel`, for the firm
    that posted the job only; the status also for whoever ``status_key`` admits and
    ``status_reader`` (caller, job id -> status, or a 404) lets read it. The result's OpenAPI
    entry shows ``result_model``'s schema (any JSON where None), ``result_example`` and
    ``geojson_example`` (an empty FeatureCollection where None)."""

    def status(
        job_id: HexId, firm: Firm = Depends(status_key or key), db: Database = Depends(get_db)
    ):
        if status_reader is not None:
            return status_reader(db, firm, job_id)
        return owned_job(db, firm, job_id, kind)

    def cancel(job_id: HexId, firm: Firm = Depends(key), db: Database = Depends(get_db)):
        job = owned_job(db, firm, job_id, kind)
        if not queue.cancel(db, job.id):
            ended = owned_job(db, firm, job_id, kind).status
            raise HTTPException(409, f"{kind} {job_id} is {ended}: there is nothing to cancel")
        return owned_job(db, firm, job_id, kind)

    def outcome(
        job_id: HexId,
        format: Annotated[Literal["json", "geojson"], Query()] = "json",
        firm: Firm = Depends(key),
        db: Database = Depends(get_db),
    ) -> JSONResponse:
        return job_result(db, owned_job(db, firm, job_id, kind), format)

    router.add_api_route(
        f"{path}/{{job_id}}",
        status,
        methods=["GET"],
        name=f"{kind}_status",
        response_model=JobStatus,
        responses=errors(401, 403, 404),
        summary=status_summary,
        description=status_description,
    )
    router.add_api_route(
        f"{path}/{{job_id}}/cancel",
        cancel,
        methods=["POST"],
        name=f"{kind}_cancel",
        response_model=JobStatus,
        responses=errors(401, 403, 404, 409),
        summary=f"Cancel a queued or running {KIND_NAMES[kind]}",
        description=CANCEL_DESCRIPTION,
    )
    router.add_api_route(
        f"{path}/{{job_id}}/{result}",
        outcome,
        methods=["GET"],
        name=f"{kind}_{result}",
        description=f"A 409 until the {KIND_NAMES[kind]} is done: while it is queued or "
        "running, and once it failed (with the reason) or was cancelled.",
        responses={
            200: {
                "description": result_description,
                **({"model": result_model} if result_model else {}),
                "content": {
                    "application/json": {"example": result_example},
                    "application/geo+json": {
                        "example": geojson_example or {"type": "FeatureCollection", "features": []}
                    },
                },
            },
            **errors(401, 403, 404, 409),
        },
        summary=result_summary,
    )


SOLUTION_DESCRIPTION = (
    "VROOM-shaped JSON (routes with steps and ETAs, unassigned with reasons; the summary holds "
    "the independent checker's verdict, `checker`: `ok` and the violations, as `gongpei solve` "
    "writes it), or a GeoJSON FeatureCollection with `?format=geojson`. Times are seconds "
    "from midnight of the plan's day, distances metres, locations [lon, lat]. The GeoJSON "
    "names its figures with their units, as a pooling run's does: a route's LineString has "
    "`vehicle`, `cost`, `distance_m` (driven), `duration_s` (travel) and `walked_m` (null off "
    "a road network); a stop's Point `vehicle`, `order` (its place in the route's `steps`), "
    "`type`, `id`, `arrival_s`, `waiting_s`, `service_start_s`, `service_s`, `departure_s` "
    "and `access_m` (`arrival` repeats `arrival_s`); a task left out a Point of `type` "
    "`unassigned` with its `id`, `task` and `reason`. The examples are the native request "
    "example's answer, with a seventh parcel no van reaches in its window."
)


async def check_pool(request: Request) -> CheckPool:
    """The API process's pool for large batches' checks (`api.app` ends it at shutdown)."""
    return request.app.state.check_pool


@router.post(
    "/v1/batches",
    response_model=JobAccepted,
    status_code=202,
    responses={**errors(401, 403, 429), **IDEMPOTENT_RESPONSES},
    summary="Submit a day's delivery batch for solving (firm)",
    description="Every field is checked now (a 422 names the item and the field); the "
    "solve runs in a worker. A vehicle may name one of the firm's registered vehicles "
    "(`{\"registered\": \"苏A12345\"}`, see `problem`), as it is registered at this moment. "
    "Poll `GET /v1/batches/{id}` until `done`, then read "
    "`GET /v1/batches/{id}/solution`. A batch holds at most 3,000 stops; a firm may have "
    "`GONGPEI_MAX_ACTIVE_JOBS` jobs queued or running at once (a 429 beyond). Send an "
    "`Idempotency-Key` to retry safely after a timeout: a retry gets the same batch.",
)
def submit_batch(
    body: BatchSubmit,
    firm: Firm = Depends(firm_key),
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
    key: RequestKey | None = Depends(request_key),
    checks: CheckPool = Depends(check_pool),
) -> dict | JSONResponse:
    return once(
        db, key, firm_id=firm.id, body=body,
        submit=lambda attach: _queued_batch(body, firm, db, settings, attach, checks),
    )  # fmt: skip


def _queued_batch(
    body: BatchSubmit,
    firm: Firm,
    db: Database,
    settings: Settings,
    attach: Attach,
    checks: CheckPool,
) -> dict:
    """The batch checked and queued (a 202's body), its job named on its idempotency key."""
    payload = body.model_dump()
    _check_size(body.problem)
    _check_travel(body.problem)
    on_map = _timed_on_the_server_map(body.problem)
    # bad input is a 422 now, not a failed job: every field first, then whether this server
    # can time the travel; the map's matrices are left to the worker. Registered vehicles are
    # stored as they are now: a later change to the register leaves the batch as posted.
    try:
        payload["problem"] = with_registered_vehicles(db, firm.id, body.format, body.problem)
        if _stops(body.problem) > LARGE_BATCH_STOPS:  # in a child: `api.check_pool` says why
            profiles = checks.profiles(payload, estimate=on_map)
        else:
            profiles = vehicle_profiles(read_batch(payload, estimate=on_map))
    except ProblemError as err:  # its message names the item and the field, its loc the path
        raise unprocessable(["body", "problem", *err.loc], str(err)) from None
    if on_map:
        payload["network"] = _server_map(body.problem, settings)
        _known_profiles(profiles, source_profiles(payload["network"]))
    return queued(db, settings, kind="batch", firm=firm, payload=payload, also=attach)


@router.get(
    "/v1/batches",
    response_model=BatchPage,
    responses=errors(401, 403, 422),
    summary="The firm's batches, newest first, with cursor paging (firm)",
    description="Each batch's status, as `GET /v1/batches/{id}` gives it: how a firm finds a "
    "batch whose id it lost.",
)
def list_batches(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    firm: Firm = Depends(firm_key),
    db: Database = Depends(get_db),
) -> dict:
    query = select(Job).where(Job.firm_id == firm.id, Job.kind == "batch")
    query = newest_first(query, created=Job.created_at, ident=Job.id, cursor=cursor, limit=limit)
    with db.reading() as session:
        rows = session.scalars(query).all()
        items = [JobStatus.model_validate(job) for job in rows[:limit]]
    return {"items": items, "next_cursor": next_cursor(rows, limit)}


#: Stops a batch may have (a job is one, a shipment two). Checking a batch builds its N x N
#: travel estimate in the API process, about 48 bytes a pair at its peak: 10,000 jobs took
#: 4.8 GiB, and the 5 MB body limit admits ~48,000. At 3,000 it is ~0.4 GiB, and past ~2,000
#: OR-Tools alone no longer finds a first plan within a minute (PyVRP still does).
MAX_BATCH_STOPS = 3_000


#: Batches past this many stops are checked in a child process (`api.check_pool`), so that
#: their checks leave the API process's GIL to its other requests, at most `LARGE_CHECKS` at
#: a time per API process: each holds its N x N estimate (0.4 GiB at 3,000 stops) while it is
#: checked, and four at once took 1.3 GiB. The others wait their turn.
LARGE_BATCH_STOPS = 500
LARGE_CHECKS = 2


def _stops(problem: dict[str, Any]) -> int:
    """A batch's stops as posted: a job is one, a shipment two."""
    jobs, shipments = problem.get("jobs"), problem.get("shipments")
    return (len(jobs) if isinstance(jobs, list) else 0) + 2 * (
        len(shipments) if isinstance(shipments, list) else 0
    )


def _check_size(problem: dict[str, Any]) -> None:
    """A batch of more stops than `MAX_BATCH_STOPS` is a 422 before anything is built."""
    jobs = problem.get("jobs")
    stops = _stops(problem)
    if stops > MAX_BATCH_STOPS:
        raise unprocessable(
            ["body", "problem", "jobs" if jobs else "shipments"],
            f"{stops:,} stops (a job is one, a shipment two); a batch holds at most "
            f"{MAX_BATCH_STOPS:,}: split the day into batches (by area or by vehicles)",
        )


def _check_travel(problem: dict[str, Any]) -> None:
    """A batch's `travel` (a native field; in a VROOM batch Gongpei's extension, which the CLI
    honours too) is checked as posted, before the server's map stands in for it: an unknown
    source would otherwise be timed on the map without a word, and a malformed one fail the
    job. It never names a map file, whatever else the batch holds: reading one would let any
    firm make the server open its files (a batch with a `matrix` key got past this check and
    the server reported whether a path existed, and what an XML file's root was)."""
    travel = problem.get("travel")
    try:
        check_travel(travel)
    except TravelError as err:
        raise unprocessable(["body", "problem", *err.loc], str(err)) from None
    if isinstance(travel, dict) and "osm" in travel:
        raise unprocessable(
            ["body", "problem", "travel", "osm"],
            "a batch cannot name a map file: travel is computed on this server's map (leave "
            "'osm' out) or given as matrices",
        )


def _timed_on_the_server_map(problem: dict[str, Any]) -> bool:
    """Whether a batch leaves its travel to the server's own road network: it gives no
    matrices and does not ask for the straight-line estimate. Matrices sent as null or {} (how
    many clients send an unset field) are none, as VROOM's reader takes them."""
    if problem.get("matrices") or problem.get("matrix") is not None:
        return False
    travel = problem.get("travel") or {}
    return travel.get("source") != "straight_line"


def _server_map(problem: dict[str, Any], settings: Settings) -> str:
    """The road network a batch's travel is timed on; a 422 in the caller's terms (not the
    CLI's `--network`) when the server has none."""
    if settings.map_network:
        return settings.map_network
    asked = (problem.get("travel") or {}).get("source") == "network"
    raise unprocessable(
        ["body", "problem", *(["travel", "source"] if asked else ["matrices"])],
        "this server has no road network to time the travel on: give matrices, or ask for "
        'the straight-line estimate with "travel": {"source": "straight_line"} (or have the '
        "server's operator set GONGPEI_MAP_NETWORK)",
    )


def _known_profiles(profiles: tuple[str, ...], known: tuple[str, ...]) -> None:
    """Each vehicle's travel profile is one the map has roads for (``known``: a map built as a
    folder has one profile's): a 422 now rather than a failed job later. The profiles are the
    parsed problem's, so VROOM's default `car` is already the `van` it is timed as."""
    for i, profile in enumerate(profiles):
        if profile not in known:
            raise unprocessable(
                ["body", "problem", "vehicles", i, "profile"],
                f"the server's map has no roads for profile '{profile}'; choose one of "
                f"{', '.join(known)} or give matrices",
            )


add_job_routes(
    router,
    path="/v1/batches",
    kind="batch",
    key=firm_key,
    status_summary="Status and progress of a batch (firm)",
    status_description="`queued`, `running` (with `progress`), then `done` (read its "
    "`solution`), `failed` (with `error`) or `cancelled`. Another firm's batch is a 404.",
    result="solution",
    result_summary="The routes of a solved batch (firm)",
    result_description=SOLUTION_DESCRIPTION,
    result_example=job_bodies.SOLUTION_EXAMPLE,
    result_model=job_bodies.BatchSolution,
    geojson_example=job_bodies.SOLUTION_GEOJSON_EXAMPLE,
)


@router.post(
    "/v1/siting-runs",
    response_model=JobAccepted,
    status_code=202,
    responses={**errors(401, 403, 429), **IDEMPOTENT_RESPONSES},
    summary="Start a locker-siting run over demand points and candidate sites (planner)",
    description="Every field is checked now (a 422 names the item and the field); the search "
    "runs in a worker. Send an `Idempotency-Key` to retry safely after a timeout: a retry "
    "gets the same run.",
)
def submit_siting(
    body: SitingSubmit,
    firm: Firm = Depends(planner_key),
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_settings),
    key: RequestKey | None = Depends(request_key),
) -> dict | JSONResponse:
    return once(
        db, key, firm_id=firm.id, body=body,
        submit=lambda attach: _queued_siting(body, firm, db, settings, attach),
    )  # fmt: skip


def _queued_siting(
    body: SitingSubmit, firm: Firm, db: Database, settings: Settings, attach: Attach
) -> dict:
    """The siting run checked and queued (a 202's body), its job named on its key."""
    payload = body.model_dump(exclude_none=True)
    _check_siting(payload)
    if body.distance == "walk":
        if not settings.map_network or "walk" not in source_profiles(settings.map_network):
            raise unprocessable(
                ["body", "distance"],
                "this server has no walk network (GONGPEI_MAP_NETWORK unset, or built for "
                "another profile); use straight_line",
            )
        payload["network"] = settings.map_network
    return queued(db, settings, kind="siting", firm=firm, payload=payload, also=attach)


def _check_siting(payload: dict[str, Any]) -> None:
    """The model, the points (a standing locker's compartments too) and what the model asks of
    the candidates (p, budget, capacities) are read now, so bad input is a 422 naming the item
    rather than a failed job; only the walking distances are left to the worker."""
    from routing.siting.errors import SitingInputError
    from routing.siting.native import model_from_dict
    from routing.siting.points import (
        candidate_from_record,
        check_model,
        check_points,
        demand_from_record,
    )

    def read(field: str, records: list[dict], reader: Callable) -> list:
        items = []
        for i, record in enumerate(records):
            try:
                items.append(reader(record))
            except SitingInputError as err:
                raise unprocessable(["body", field, i], str(err)) from None
        return items

    try:
        model = model_from_dict(payload["model"])
    except SitingInputError as err:
        raise unprocessable(["body", "model"], str(err)) from None
    demand = read("demand", siting_records(payload, "demand"), demand_from_record)
    candidates = read("candidates", siting_records(payload, "candidates"), candidate_from_record)
    try:
        check_points(demand, candidates)
    except SitingInputError as err:  # the message names the item, its loc where it stands
        raise unprocessable(["body", *err.loc], str(err)) from None
    try:
        check_model(model, candidates)
    except SitingInputError as err:
        raise unprocessable(["body", "model"], str(err)) from None


SITING_RESULT_DESCRIPTION = (
    "The plan (`gongpei site` writes the same JSON): a summary with the "
    "objective, proven bound and gap, coverage and utilisation; the open sites with their "
    "load, and with capacity, utilisation and S/M/L compartments where the model has them; "
    "each demand point's share served by each site; the points no candidate reaches; the "
    "parcels left unserved. Or the sites and catchment lines as a GeoJSON "
    "FeatureCollection with `?format=geojson`. The example is the request example's plan."
)
SITING_RESULT_EXAMPLE: dict[str, Any] = {
    "instance": "siting-run",
    "summary": {
        "model": "maxcover",
        "capacitated": False,
        "method": "exact:scip",
        "objective": 200.0,
        "bound": 200.0,
        "gap": 0.0,
        "optimal": True,
        "open_sites": 1,
        "parcels": 200.0,
        "served_parcels": 200.0,
        "unserved_parcels": 0.0,
        "coverage": 1.0,
        "mean_distance": 128.7,
        "mean_utilisation": None,
        "uncoverable_points": 0,
    },
    "open_site_ids": ["gate-east"],
    "sites": [{"id": "gate-east", "load": 200.0, "lon": 120.3831, "lat": 36.0668}],
    "assignment": [
        {"demand": "dorm-7", "site": "gate-east", "fraction": 1.0, "parcels": 140},
        {"demand": "lab-2", "site": "gate-east", "fraction": 1.0, "parcels": 60},
    ],
    "uncoverable": [],
    "unserved": [],
    "warnings": [],
}


add_job_routes(
    router,
    path="/v1/siting-runs",
    kind="siting",
    key=planner_key,
    status_summary="Status of a siting run (planner)",
    result="result",
    result_summary="The chosen sites of a finished siting run (planner)",
    result_description=SITING_RESULT_DESCRIPTION,
    result_example=SITING_RESULT_EXAMPLE,
)

"""The public map page (`/map`) and the road network drawn under it when tiles are unreachable."""

from __future__ import annotations

import json
import logging
import threading
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import Locker
from api.deps import get_db, public_responses
from api.headers import IfNoneMatch, cached, cached_responses, entity_tag
from api.limits import public_rate_limit
from api.settings import OSM_CREDIT, Settings, graph_cache_dir
from network.errors import GongpeiError

router = APIRouter(tags=["map"])
log = logging.getLogger("gongpei.api")


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


_DEFAULT_CENTRE = (36.067, 120.383)  # Qingdao, Shinan district
_network_lock = threading.Lock()
#: Seconds a browser or proxy may keep the road layer without asking again: it changes only
#: when the server restarts on another map, and after that a client revalidates by its ETag.
NETWORK_MAX_AGE_S = 600


def map_centre(session: Session) -> tuple[float, float]:
    """Where the map opens: the locker nearest the median position (so a few lockers in
    another city do not pull the view into the empty space between), else the default."""
    count = session.scalar(select(func.count(Locker.id)))
    if not count:
        return _DEFAULT_CENTRE

    def median(column: Any) -> float:
        return session.scalar(select(column).order_by(column).limit(1).offset(count // 2))

    lat, lon = median(Locker.lat), median(Locker.lon)
    nearest = (Locker.lat - lat) * (Locker.lat - lat) + (Locker.lon - lon) * (Locker.lon - lon)
    row = session.execute(select(Locker.lat, Locker.lon).order_by(nearest).limit(1)).one()
    return row.lat, row.lon


@router.get(
    "/map",
    response_class=HTMLResponse,
    dependencies=[Depends(public_rate_limit)],
    responses=public_responses(),
    summary="Public locker map page",
)
def map_page(request: Request, db: Database = Depends(get_db)) -> HTMLResponse:
    with db.reading() as session:
        lat, lon = map_centre(session)
    settings: Settings = request.app.state.settings
    source = settings.map_network
    osm_roads = bool(source) and not source.startswith("synthetic:")  # ODbL: credit OSM
    config = {
        "centre": [lat, lon],
        "tileUrl": settings.tile_url,
        "tileAttribution": settings.tile_credit,
        "roadsAttribution": OSM_CREDIT if osm_roads else "",
    }
    # "<" escaped so no configured string can close the <script> element it is placed in.
    config_json = json.dumps(config).replace("<", "\\u003c")
    html = (files("api.web") / "map.html").read_text(encoding="utf-8")
    return HTMLResponse(html.replace("__CONFIG__", config_json))


def network_geojson(source: str) -> dict[str, Any]:
    """The roads of `source`'s van graph (a `gongpei network build` folder's own profile) as a
    GeoJSON FeatureCollection, each street once. Loaded as batches are timed on it, so a folder
    works as it does for them; a graph built from a file is cached in the data folder, so a
    restarted server does not build it again."""
    from api.scenario.mapdata import road_features
    from network.store import source_profiles
    from routing.travel import road_graphs

    profiles = source_profiles(source)
    profile = "van" if "van" in profiles else profiles[0]
    graphs = road_graphs([profile], network=source, cache_dir=str(graph_cache_dir()))
    return {"type": "FeatureCollection", "features": road_features(graphs[profile])}


@router.get(
    "/map/network.geojson",
    dependencies=[Depends(public_rate_limit)],
    summary="Road network base layer of the map (GeoJSON; empty when none is configured)",
    description="The roads the map page draws, each street once. Unless the server's map is "
    "synthetic (a test grid), they come from OpenStreetMap: © OpenStreetMap contributors, "
    "under the Open Database License (ODbL); credit them wherever you show or share them, as "
    "the map page does.",
    response_class=GeoJSONResponse,
    responses=cached_responses(
        public_responses(
            503,
            ok={
                "content": {
                    "application/geo+json": {
                        "example": {
                            "type": "FeatureCollection",
                            "features": [
                                {
                                    "type": "Feature",
                                    "geometry": {
                                        "type": "LineString",
                                        "coordinates": [[120.383, 36.067], [120.384, 36.067]],
                                    },
                                    "properties": {"highway": "residential"},
                                }
                            ],
                        }
                    }
                }
            },
        ),
        max_age_s=NETWORK_MAX_AGE_S,
        kept=f"{NETWORK_MAX_AGE_S} s (it changes only when the server restarts on another map)",
    ),
)
def network_layer(request: Request, if_none_match: IfNoneMatch = "") -> Response:
    """The map's roads, built once per process. A map that cannot be loaded is the server's
    fault, not the caller's: a 503 (its reason, which names the server's files, is logged).
    The same bytes every time, so they carry an ETag, and a client that sends it back gets a
    304 (the layer was 178-257 kB, fetched again on every page load)."""
    state = request.app.state
    source = state.settings.map_network
    with _network_lock:
        if getattr(state, "network_layer", None) is None:
            empty = {"type": "FeatureCollection", "features": []}
            try:
                layer = GeoJSONResponse(network_geojson(source) if source else empty)
            except GongpeiError as err:
                log.error("the map's road network (GONGPEI_MAP_NETWORK) cannot be loaded: %s", err)
                raise HTTPException(
                    503,
                    "the map's road network cannot be loaded (GONGPEI_MAP_NETWORK); the "
                    "server's log says why",
                ) from None
            state.network_layer = layer.body, entity_tag(layer.body)
    body, tag = state.network_layer
    return cached(
        body,
        media_type=GeoJSONResponse.media_type,
        max_age_s=NETWORK_MAX_AGE_S,
        if_none_match=if_none_match,
        tag=tag,
    )

"""The public map page (`/map`) and the road network drawn under it when tiles are unreachable."""

from __future__ import annotations

import json
import threading
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import func, select

from api.db.engine import Database
from api.db.models import Locker
from api.deps import get_db
from api.limits import public_rate_limit
from api.settings import Settings, data_dir

router = APIRouter(tags=["map"])


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"

_DEFAULT_CENTRE = (36.067, 120.383)  # Qingdao, Shinan district
_network_lock = threading.Lock()


@router.get("/map", response_class=HTMLResponse, summary="Public locker map page")
def map_page(request: Request, db: Database = Depends(get_db)) -> HTMLResponse:
    with db.reading() as session:
        lat, lon = session.execute(select(func.avg(Locker.lat), func.avg(Locker.lon))).one()
    settings: Settings = request.app.state.settings
    config = {
        "centre": [lat, lon] if lat is not None else list(_DEFAULT_CENTRE),
        "tileUrl": settings.tile_url,
    }
    html = (files("api.web") / "map.html").read_text(encoding="utf-8")
    return HTMLResponse(html.replace("__CONFIG__", json.dumps(config)))


def network_geojson(source: str) -> dict[str, Any]:
    """The roads of `source`'s van graph as a GeoJSON FeatureCollection (each street once);
    the graph is cached in the data folder, so a restarted server does not rebuild it."""
    from api.scenario.mapdata import road_features
    from network.graph import build_graph

    graph = build_graph(source, cache_dir=data_dir() / "graphs")
    return {"type": "FeatureCollection", "features": road_features(graph)}


@router.get(
    "/map/network.geojson",
    dependencies=[Depends(public_rate_limit)],
    summary="Road network base layer of the map (GeoJSON; empty when none is configured)",
    response_class=GeoJSONResponse,
    responses={
        200: {
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
        }
    },
)
def network_layer(request: Request) -> GeoJSONResponse:
    state = request.app.state
    source = state.settings.map_network
    with _network_lock:
        if getattr(state, "network_geojson", None) is None:
            empty = {"type": "FeatureCollection", "features": []}
            state.network_geojson = network_geojson(source) if source else empty
    return GeoJSONResponse(state.network_geojson)

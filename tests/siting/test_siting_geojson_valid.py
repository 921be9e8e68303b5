"""Every feature of a siting plan's GeoJSON is a valid geometry: a demand point at its own site
has a catchment with none (a line from a place to itself is invalid in shapely and QGIS, and a
Point made the catchment layer one of two geometry types, which no Shapefile holds)."""

from shapely.geometry import shape

from routing.siting import SitingModel, solve
from routing.siting.points import Candidate, DemandPoint, instance_from_points

LAT, LON = 36.067, 120.383
M = 1 / 111_320  # about one metre of latitude, in degrees


def test_a_point_at_its_own_site_gets_a_catchment_without_geometry_and_its_properties():
    demand = [DemandPoint("here", LAT, LON, 10), DemandPoint("north", LAT + 300 * M, LON, 5)]
    plan = solve(
        instance_from_points(
            demand, [Candidate("s0", LAT, LON, fixed_cost=3)], radius_m=400, straight_line=True
        ),
        SitingModel("setcover"),
    )
    features = plan.to_geojson()["features"]
    drawn = [f for f in features if f["geometry"] is not None]
    invalid = [f["properties"] for f in drawn if not shape(f["geometry"]).is_valid]
    assert invalid == []
    catchments = {
        f["properties"]["demand"]: f for f in features if f["properties"]["kind"] == "catchment"
    }
    # one catchment per assignment row, whatever its geometry: counts and parcels add up
    assert len(catchments) == len(plan.to_dict()["assignment"]) == 2
    here = catchments["here"]
    assert here["geometry"] is None
    assert here["properties"] | {"distance": 0.0} == here["properties"]
    assert (here["properties"]["site"], here["properties"]["parcels"]) == ("s0", 10.0)
    assert catchments["north"]["geometry"]["type"] == "LineString"

"""/map without a browser: where it opens, whom it credits, a config kept inside its script."""

from __future__ import annotations

import json
import re

import pytest

from api.lockers import create_locker

HELSINKI = [(60.1699, 24.9384), (60.1710, 24.9410), (60.1685, 24.9350)]
QINGDAO = (36.0670, 120.3830)


def page_config(client) -> dict:
    """The JSON the server put in place of __CONFIG__."""
    r = client.get("/map")
    assert r.status_code == 200
    return json.loads(re.search(r"const CONFIG = (.*);\n", r.text).group(1))


def add_lockers(db, points) -> None:
    with db.writing() as session:
        for i, (lat, lon) in enumerate(points):
            create_locker(session, name=f"Locker {i}", lat=lat, lon=lon, compartments={"S": 1})


def test_map_opens_on_the_default_centre_without_lockers(client):
    assert page_config(client)["centre"] == [36.067, 120.383]


def test_map_opens_on_the_middle_locker_of_a_row(client, lockers):
    assert page_config(client)["centre"] == pytest.approx([36.0670, 120.3852])


def test_one_locker_in_another_city_does_not_move_the_map(client, db):
    add_lockers(db, [*HELSINKI, QINGDAO])  # the average would lie in Russia
    assert tuple(page_config(client)["centre"]) in HELSINKI


def test_two_cities_open_on_a_locker_not_between_them(client, db):
    points = [HELSINKI[0], HELSINKI[1], QINGDAO, (36.0680, 120.3850)]
    add_lockers(db, points)
    assert tuple(page_config(client)["centre"]) in points


@pytest.mark.parametrize(
    ("network", "credited"),
    [("demo", True), ("/data/region.osm.pbf", True), ("synthetic:400", False), ("", False)],
)
def test_openstreetmap_roads_are_credited_without_tiles(make_client, network, credited):
    config = page_config(make_client(map_network=network, tile_url=""))
    assert ("OpenStreetMap" in config["roadsAttribution"]) is credited


def test_config_cannot_close_its_script_element(make_client):
    tiles = "https://tiles.example/{z}/{x}/{y}.png?</script><script>alert(1)</script>"
    client = make_client(tile_url=tiles)
    assert "</script><script>alert" not in client.get("/map").text
    assert page_config(client)["tileUrl"] == tiles

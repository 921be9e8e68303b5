"""`gongpei network build|info|matrix`: a thin CLI over network.graph, network.store, matrix."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from api.cli.checks import check_inputs_outside, check_output_files, check_writable_folder
from api.cli.sigterm import terminable
from network.errors import AreaError, ProfileError
from network.snap import DEFAULT_MAX_SNAP_M
from network.sources import is_builtin

app = typer.Typer(help="Road graphs from OSM files and travel-time matrices.", no_args_is_help=True)


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        w, s, e, n = (float(p) for p in parts)
    except ValueError:
        raise AreaError(f"--bbox {text!r}: expected four numbers W,S,E,N") from None
    return w, s, e, n


def _speeds(items: list[str] | None) -> dict[str, float] | None:
    speeds = {}
    for item in items or []:
        highway, _, kmh = item.partition("=")
        try:
            speeds[highway.strip()] = float(kmh)
        except ValueError:
            raise ProfileError(
                f"--speed {item!r}: expected HIGHWAY=KMH, e.g. residential=15"
            ) from None
    return speeds or None


@app.command()
def build(
    source: Annotated[
        str, typer.Argument(help="OSM file (.osm/.bz2/.gz/.pbf), 'demo' or 'synthetic:N'.")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder to write the built graph to.")],
    profile: Annotated[str, typer.Option(help="van, e-tricycle or walk.")] = "van",
    bbox: Annotated[str | None, typer.Option(help="Clip to W,S,E,N (lon/lat).")] = None,
    polygon: Annotated[
        Path | None, typer.Option(help="Clip to the polygon(s) of a GeoJSON file (lon/lat).")
    ] = None,
    polygon_name: Annotated[
        str | None, typer.Option(help="With --polygon: only the feature with this name.")
    ] = None,
    speed: Annotated[
        list[str] | None, typer.Option(help="Override a class speed: HIGHWAY=KMH (repeatable).")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Graph cache (default $GONGPEI_DATA_DIR/graphs).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a folder that is not a built graph.")
    ] = False,
) -> None:
    """Build a profile's road graph and save it (GraphML, pickle, matrix index, info.json)."""
    # Imported here, not at module level, so `gongpei --help` starts fast.
    from api.settings import graph_cache_dir
    from network.areas import read_polygon
    from network.graph import build_graph
    from network.store import check_graph_target, save_graph_dir

    if polygon_name is not None and polygon is None:
        raise AreaError("--polygon-name: names a feature of the --polygon file; give --polygon")
    check_writable_folder("--out", out)
    map_file = None if is_builtin(source) else Path(source)
    check_inputs_outside("--out", out, {"the OSM file": map_file, "the --polygon file": polygon})
    check_graph_target(out, overwrite=overwrite)
    started = time.perf_counter()
    with terminable():
        graph = build_graph(
            source,
            profile=profile,
            bbox=_bbox(bbox),
            polygon=read_polygon(polygon, polygon_name) if polygon else None,
            speeds_kmh=_speeds(speed),
            cache_dir=cache_dir or graph_cache_dir(),
        )
        save_graph_dir(graph, out, overwrite=overwrite)
    report = graph.graph["report"]
    typer.echo(
        f"{source} [{profile}]: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges "
        f"(cache {graph.graph.get('cache', 'off')}); dropped {report.get('scc_nodes_dropped', 0)} "
        f"nodes outside the largest strongly connected component; wrote {out} "
        f"in {time.perf_counter() - started:.1f} s"
    )


@app.command()
def info(
    folder: Annotated[Path, typer.Argument(help="A folder written by `network build`.")],
) -> None:
    """Show a built graph's source, profile, size, extent and build report (JSON)."""
    from network.store import read_info

    typer.echo(json.dumps(read_info(folder), ensure_ascii=False, indent=2))


@app.command()
def matrix(
    folder: Annotated[Path, typer.Argument(help="A folder written by `network build`.")],
    points: Annotated[Path, typer.Argument(help="CSV with columns id,lat,lon.")],
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Output .npz (ids, duration_s, distance_m, snap_m).")
    ],
    max_snap_m: Annotated[
        float, typer.Option(help="Reject points farther than this from a road.")
    ] = DEFAULT_MAX_SNAP_M,
) -> None:
    """Duration and distance matrices between the points (np.inf where unreachable).

    Written to the file block by block: memory stays small however many points.
    """
    from network.matrix import save_travel_matrix
    from network.points import read_points_csv
    from network.store import load_graph_dir

    check_output_files({"the graph folder": folder, "the points file": points}, {"--out": out})
    ids, coords = read_points_csv(points)
    graph = load_graph_dir(folder)
    started = time.perf_counter()
    with terminable():
        saved = save_travel_matrix(graph, coords, out, ids=ids, max_snap_m=max_snap_m)
    examples = ", ".join(f"{ids[i]!r} -> {ids[j]!r}" for i, j in saved.examples)
    more = " ..." if saved.unreachable > len(saved.examples) else ""
    typer.echo(
        f"{saved.points} points: max snap {saved.largest_snap_m:.1f} m, "
        f"{saved.unreachable} unreachable pairs{f' (e.g. {examples}{more})' if examples else ''}; "
        f"wrote {out} in {time.perf_counter() - started:.2f} s"
    )

"""Readers for OR-Library p-median (``pmedN.txt``) and capacitated warehouse (``capNN.txt``) files.

Formats as in Beasley's OR-Library: p-median files list graph edges (the last occurrence of a
duplicate edge wins) and every vertex is both a client of weight 1 and a candidate; cap files list
capacities and fixed costs, then per customer its demand and the cost of serving all of it from
each warehouse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, shortest_path

from routing.siting.errors import OrlibFormatError
from routing.siting.model import SitingInstance

# the most memory the dense n x n distances of a pmed file may take (float64): OR-Library's
# largest (n = 900) takes 6.5 MB, a typo such as n = 100000 for 100 would take 74.5 GiB
PMED_MAX_BYTES = 2**30
PMED_MAX_N = math.isqrt(PMED_MAX_BYTES // 8)  # 11,585 vertices


@dataclass(frozen=True)
class PmedFile:
    """A p-median instance and its number of medians."""

    instance: SitingInstance
    p: int


def read_pmed(path: str | Path) -> PmedFile:
    """Read ``pmedN.txt``: all-pairs shortest paths become a dense reach matrix (all pairs)."""
    path = Path(path)
    lines = _lines(path)
    n, m, p = _pmed_header(path, lines)
    keys, vals = _pmed_edges(path, lines, n, m)
    graph = sp.csr_matrix((vals, (keys[:, 0], keys[:, 1])), shape=(n, n))
    _check_connected(path, graph, keys)
    dist = shortest_path(graph, method="D", directed=False)
    reach = sp.csr_matrix(
        (dist.ravel(), np.tile(np.arange(n), n), np.arange(0, n * n + 1, n)), shape=(n, n)
    )
    ids = [str(v + 1) for v in range(n)]
    inst = SitingInstance(
        demand_ids=ids,
        weight=np.ones(n),
        site_ids=list(ids),
        reach=reach,
        fixed_cost=np.zeros(n),
        capacity=np.full(n, np.inf),
        must_open=np.zeros(n, dtype=bool),
        name=path.stem,
    )
    return PmedFile(inst, p)


def _pmed_header(path: Path, lines: list[tuple[int, str]]) -> tuple[int, int, int]:
    """n, m and p, checked before any edge is read, so that a wrong count is reported on the
    header's line (a negative m read as "more lines follow" than its edges) and an n whose
    dense distances would not fit in memory is refused before they are worked out."""
    no = lines[0][0]
    n, m, p = _whole(path, no, _numbers(path, lines, 0, 3), "n, m and p")
    if n < 1 or m < 1 or p < 1 or p > n:
        raise OrlibFormatError(
            f"{path.name} line {no}: need n >= 1, m >= 1 and 1 <= p <= n, got n={n} m={m} p={p}"
        )
    if n > PMED_MAX_N:
        raise OrlibFormatError(
            f"{path.name} line {no}: n={n} vertices need {8 * n * n / 2**30:.1f} GiB of dense "
            f"distances; at most n={PMED_MAX_N} ({PMED_MAX_BYTES / 2**30:g} GiB) is read"
        )
    if len(lines) - 1 < m:
        raise OrlibFormatError(
            f"{path.name}: header says {m} edges but only {len(lines) - 1} lines follow"
        )
    if len(lines) - 1 > m:
        raise OrlibFormatError(
            f"{path.name} line {lines[m + 1][0]}: the header says {m} edges, but more lines follow"
        )
    return n, m, p


def _pmed_edges(
    path: Path, lines: list[tuple[int, str]], n: int, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """The edges as 0-based (i, j) pairs, i <= j, and their costs, each line checked where it
    stands; Beasley's rule: the last occurrence of a duplicate edge wins."""
    edges: dict[tuple[int, int], float] = {}
    for k in range(1, m + 1):
        a, b, c = _numbers(path, lines, k, 3)
        a, b = _whole(path, lines[k][0], (a, b), "vertices")
        i, j = a - 1, b - 1
        if not (0 <= i < n and 0 <= j < n):
            raise OrlibFormatError(
                f"{path.name} line {lines[k][0]}: edge ({a}, {b}) is outside vertices 1..{n}"
            )
        if not (np.isfinite(c) and c >= 0):  # nan or inf read as a disconnected graph before
            raise OrlibFormatError(
                f"{path.name} line {lines[k][0]}: edge ({a}, {b}) cost must be a finite number "
                f">= 0, got {c:g}"
            )
        edges[(min(i, j), max(i, j))] = c
    keys = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
    return keys, np.fromiter(edges.values(), dtype=np.float64, count=len(edges))


def _check_connected(path: Path, graph: sp.csr_matrix, keys: np.ndarray) -> None:
    """Every vertex reaches every other, checked on the sparse graph: the dense all-pairs
    distances (up to ``PMED_MAX_BYTES``) had been worked out first, and on a header whose n far
    exceeded the vertices the edges name had taken all the memory there is before the graph
    was found disconnected."""
    alone = np.setdiff1d(np.arange(graph.shape[0]), keys)
    if alone.size:
        raise OrlibFormatError(
            f"{path.name}: the edge list leaves the graph disconnected: vertex {alone[0] + 1} "
            "is in no edge"
        )
    count, label = connected_components(graph, directed=False)
    if count > 1:
        apart = int(np.flatnonzero(label != label[0])[0])
        raise OrlibFormatError(
            f"{path.name}: the edge list leaves the graph disconnected: vertex {apart + 1} "
            "cannot reach vertex 1"
        )


#: Beasley's Table 1: the capacities that make four problems of each of capa, capb and capc,
#: whose facility lines hold the word ``capacity`` in place of the number.
CAPACITY_CHOICES = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}


def read_cap(path: str | Path, *, capacity: float | None = None) -> SitingInstance:
    """Read ``capNN.txt``: reach values are the cost per unit of demand (cost of all / demand).

    ``capacity`` stands in for the word ``capacity`` that capa, capb and capc hold in place of
    every facility's capacity (one file, four problems); such a file without it is refused,
    naming the values Beasley gives."""
    path = Path(path)
    lines = _lines(path)
    no = lines[0][0]
    m, n = _whole(path, no, _numbers(path, lines, 0, 2), "m and n")
    if m < 1 or n < 1:
        raise OrlibFormatError(f"{path.name} line {no}: need m >= 1 and n >= 1, got m={m} n={n}")
    cap, fixed = _facilities(path, lines, m, capacity)
    demand, cost = _customers_any_layout(path, lines[m + 1 :], m, n)
    unit = cost / demand[:, None]
    reach = sp.csr_matrix(
        (unit.ravel(), np.tile(np.arange(m), n), np.arange(0, n * m + 1, m)), shape=(n, m)
    )
    return SitingInstance(
        demand_ids=[str(j + 1) for j in range(n)],
        weight=demand,
        site_ids=[str(i + 1) for i in range(m)],
        reach=reach,
        fixed_cost=fixed,
        capacity=cap,
        must_open=np.zeros(m, dtype=bool),
        name=path.stem,
    )


def _facilities(
    path: Path, lines: list[tuple[int, str]], m: int, capacity: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each facility's capacity and fixed cost, a line of exactly these 2 values each: a header
    m larger than the facilities listed is then reported on the first customer's line, not at
    the end of the file as a customer's missing cost."""
    _check_capacity_word(path, lines[1 : m + 1], capacity)
    cap, fixed = [], []
    for i in range(1, m + 1):
        if i >= len(lines):
            raise OrlibFormatError(
                f"{path.name}: file ends where facility {i} capacity and fixed cost were expected"
            )
        no, text = lines[i]
        values = text.split()
        if len(values) != 2:
            raise OrlibFormatError(
                f"{path.name} line {no}: facility {i} needs 2 values (capacity, fixed cost), "
                f"got {len(values)}: the header says m={m}"
            )
        given = str(capacity) if values[0].lower() == "capacity" else values[0]
        cap.append(_value(path, no, given, f"facility {i} capacity"))
        fixed.append(_value(path, no, values[1], f"facility {i} fixed cost"))
    return np.array(cap), np.array(fixed)


def _check_capacity_word(
    path: Path, lines: list[tuple[int, str]], capacity: float | None
) -> None:
    """A file holding the word ``capacity`` needs ``capacity``; one that does not, refuses it."""
    words = [no for no, text in lines if text.split()[:1] and text.split()[0].lower() == "capacity"]
    if words and capacity is None:
        choices = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in CAPACITY_CHOICES.items())
        raise OrlibFormatError(
            f"{path.name} line {words[0]}: the facilities' capacity is the word 'capacity', as "
            f"in capa, capb and capc: give it with --capacity (Beasley's values: {choices})"
        )
    if capacity is not None and not words:
        raise OrlibFormatError(
            f"--capacity {capacity:g}: {path.name} gives every facility's capacity as a number "
            "(--capacity is for files that hold the word 'capacity': capa, capb, capc)"
        )
    if capacity is not None and not (np.isfinite(capacity) and capacity > 0):
        raise OrlibFormatError(f"--capacity must be a number > 0, got {capacity:g}")


def _customers_any_layout(
    path: Path, lines: list[tuple[int, str]], m: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The customers as Beasley lays them out (each demand begins a line, so a wrong m is
    caught where it first shows), else, where that fails, as one stream of values (a copy
    re-wrapped so that a demand shares its line with costs) if the count is exactly n(m + 1)."""
    try:
        return _customers(path, lines, m, n)
    except OrlibFormatError:
        tokens = [(no, tok) for no, text in lines for tok in text.split()]
        if len(tokens) != n * (m + 1):
            raise
    demand, cost = [], []
    for j in range(1, n + 1):
        (no, tok), *costs = tokens[(j - 1) * (m + 1) : j * (m + 1)]
        demand.append(_value(path, no, tok, f"customer {j} demand", positive=True))
        what = f"customer {j} cost from facility"
        cost.append([_value(path, at, c, f"{what} {i}") for i, (at, c) in enumerate(costs, 1)])
    return np.array(demand), np.array(cost)


def _customers(
    path: Path, lines: list[tuple[int, str]], m: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's demand and its m costs. The demand begins a line, alone there (the costs
    wrap over the lines that follow, as in Beasley's files) or with all m costs: a header m
    smaller than the facilities listed is then reported on the first one it leaves out, where a
    plain stream of values read on to a wrong "extra value" at the end of the file. Lists, not
    an n x m array, so that a header's huge n takes no memory before the file runs out."""
    tokens = [
        (no, k, len(values), tok)
        for no, text in lines
        for values in [text.split()]
        for k, tok in enumerate(values)
    ]
    demand, cost = [], []
    pos = 0
    for j in range(1, n + 1):
        if pos >= len(tokens):
            raise OrlibFormatError(f"{path.name}: file ends where customer {j} demand was expected")
        no, k, count, tok = tokens[pos]
        if k > 0:
            raise OrlibFormatError(
                f"{path.name} line {no}: unexpected extra value '{tok}' after customer {j - 1}'s "
                f"{m} costs: the header says m={m}"
            )
        if count not in (1, m + 1):
            raise OrlibFormatError(
                f"{path.name} line {no}: customer {j} demand must stand alone on its line or "
                f"with all {m} costs, got {count} values: the header says m={m}"
            )
        demand.append(_value(path, no, tok, f"customer {j} demand", positive=True))
        row = []
        for i in range(1, m + 1):
            pos += 1
            if pos >= len(tokens):
                raise OrlibFormatError(
                    f"{path.name}: file ends where customer {j} cost from facility {i} "
                    "was expected"
                )
            no, _, _, tok = tokens[pos]
            row.append(_value(path, no, tok, f"customer {j} cost from facility {i}"))
        cost.append(row)
        pos += 1
    if pos < len(tokens):
        no, _, _, tok = tokens[pos]
        raise OrlibFormatError(
            f"{path.name} line {no}: unexpected extra value '{tok}': the header says n={n} "
            "customers"
        )
    return np.array(demand), np.array(cost)


def _value(path: Path, line: int, tok: str, what: str, *, positive: bool = False) -> float:
    """``tok`` as a number, checked where it stands (a nan or inf had been refused later, as
    the instance's, with no line), >= 0 or, if ``positive``, > 0."""
    try:
        value = float(tok)
    except ValueError:
        raise OrlibFormatError(
            f"{path.name} line {line}: {what} must be a number, got '{tok}'"
        ) from None
    if not (np.isfinite(value) and (value > 0 if positive else value >= 0)):
        raise OrlibFormatError(
            f"{path.name} line {line}: {what} must be a finite number "
            f"{'> 0' if positive else '>= 0'}, got '{tok}'"
        )
    return value


def _lines(path: Path) -> list[tuple[int, str]]:
    """The file's non-blank lines with their line numbers (1-based)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is no value
    except FileNotFoundError:
        raise OrlibFormatError(f"{path}: file not found") from None
    except OSError as err:
        raise OrlibFormatError(f"{path}: cannot read it ({err.strerror})") from None
    except UnicodeDecodeError:
        raise OrlibFormatError(f"{path.name}: not a text file") from None
    lines = [(no, ln) for no, ln in enumerate(text.splitlines(), 1) if ln.strip()]
    if not lines:
        raise OrlibFormatError(f"{path.name}: file is empty")
    return lines


def _numbers(path: Path, lines: list[tuple[int, str]], k: int, count: int) -> list[float]:
    no, text = lines[k]
    try:
        vals = [float(v) for v in text.split()]
    except ValueError:
        raise OrlibFormatError(
            f"{path.name} line {no}: expected {count} numbers, got '{text.strip()}'"
        ) from None
    if len(vals) != count:
        raise OrlibFormatError(f"{path.name} line {no}: expected {count} numbers, got {len(vals)}")
    return vals


def _whole(path: Path, line: int, values, what: str) -> list[int]:
    """``values`` as ints, or an error on ``line`` if one is not a whole number."""
    if not all(np.isfinite(v) and v == int(v) for v in values):
        raise OrlibFormatError(
            f"{path.name} line {line}: {what} must be whole numbers, got "
            + " ".join(f"{v:g}" for v in values)
        )
    return [int(v) for v in values]

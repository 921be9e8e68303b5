"""Readers for OR-Library p-median (``pmedN.txt``) and capacitated warehouse (``capNN.txt``) files.

Formats as in Beasley's OR-Library: p-median files list graph edges (the last occurrence of a
duplicate edge wins) and every vertex is both a client of weight 1 and a candidate; cap files list
capacities and fixed costs, then per customer its demand and the cost of serving all of it from
each warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from routing.siting.errors import OrlibFormatError
from routing.siting.model import SitingInstance


@dataclass(frozen=True)
class PmedFile:
    """A p-median instance and its number of medians."""

    instance: SitingInstance
    p: int


def read_pmed(path: str | Path) -> PmedFile:
    """Read ``pmedN.txt``: all-pairs shortest paths become a dense reach matrix (all pairs)."""
    path = Path(path)
    lines = _lines(path)
    n, m, p = _whole(path, lines[0][0], _numbers(path, lines, 0, 3), "n, m and p")
    if n < 1 or p < 1 or p > n:
        raise OrlibFormatError(
            f"{path.name} line {lines[0][0]}: need n >= 1 and 1 <= p <= n, got n={n} p={p}"
        )
    if len(lines) - 1 < m:
        raise OrlibFormatError(
            f"{path.name}: header says {m} edges but only {len(lines) - 1} lines follow"
        )
    if len(lines) - 1 > m:
        raise OrlibFormatError(
            f"{path.name} line {lines[m + 1][0]}: the header says {m} edges, but more lines follow"
        )
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
        edges[(min(i, j), max(i, j))] = c  # Beasley's rule: the last occurrence wins
    keys = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
    vals = np.fromiter(edges.values(), dtype=np.float64, count=len(edges))
    graph = sp.csr_matrix((vals, (keys[:, 0], keys[:, 1])), shape=(n, n))
    dist = shortest_path(graph, method="D", directed=False)
    if not np.all(np.isfinite(dist)):
        raise OrlibFormatError(f"{path.name}: the edge list leaves the graph disconnected")
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


def read_cap(path: str | Path) -> SitingInstance:
    """Read ``capNN.txt``: reach values are the cost per unit of demand (cost of all / demand)."""
    path = Path(path)
    tokens: list[tuple[int, str]] = [(no, tok) for no, line in _lines(path) for tok in line.split()]
    pos = 0

    def take(what: str, *, positive: bool = False) -> float:
        """The next value, checked where it stands (a nan or inf had been refused later, as
        the instance's, with no line), >= 0 or, if ``positive``, > 0."""
        nonlocal pos
        if pos >= len(tokens):
            raise OrlibFormatError(f"{path.name}: file ends where {what} was expected")
        line, tok = tokens[pos]
        pos += 1
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

    line = tokens[0][0]
    m, n = _whole(path, line, (take("facility count m"), take("customer count n")), "m and n")
    if m < 1 or n < 1:
        raise OrlibFormatError(f"{path.name} line {line}: need m >= 1 and n >= 1, got m={m} n={n}")
    cap, fixed = np.empty(m), np.empty(m)
    for i in range(m):
        cap[i], fixed[i] = take(f"facility {i + 1} capacity"), take(f"facility {i + 1} fixed cost")
    demand, cost = np.empty(n), np.empty((n, m))
    for j in range(n):
        demand[j] = take(f"customer {j + 1} demand", positive=True)
        for i in range(m):
            cost[j, i] = take(f"customer {j + 1} cost from facility {i + 1}")
    if pos != len(tokens):
        line, tok = tokens[pos]
        raise OrlibFormatError(f"{path.name} line {line}: unexpected extra value '{tok}'")
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


def _lines(path: Path) -> list[tuple[int, str]]:
    """The file's non-blank lines with their line numbers (1-based)."""
    try:
        text = path.read_text()
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

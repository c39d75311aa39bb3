"""From scored pairs to clusters that never join what must stay apart.

Joins in this order: ``must_link`` (the same source record), a steward's merges, records sharing an
identity (credit code, ID number), then pairs at or above the merge threshold, most likely first. Two kinds
of check stop a join after the first kinds:

- a steward's ``vetoes`` (keep apart), and, for scored joins, two records compared and found clearly
  different (``forbidden``), so a weak link cannot chain two groups into one;
- **exclusive attributes**: a cluster never holds two records whose values of an exclusive attribute differ
  (two regions of a company name, two credit codes, a branch and its parent, two ID numbers), however the
  chain of pairs runs, even through records that were never compared with each other.

Most groups contain no such conflict, and for them the order of joins does not matter: they are the
connected components of all the joins, found at once. Only the records of a component that holds a
forbidden pair or two values of an exclusive attribute are joined one pair at a time, with the checks.
"""

from __future__ import annotations

import numpy as np
import polars as pl

NONE = -1  # an exclusive attribute's code where the record has no value


def _adjacency(pairs: np.ndarray) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for a, b in pairs.tolist():
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)
    return out


def edges(pairs) -> np.ndarray:
    """Pairs of record indices as an (n, 2) integer array."""
    if isinstance(pairs, np.ndarray):
        return pairs.astype(np.int64).reshape(-1, 2)
    if isinstance(pairs, pl.DataFrame):
        return np.column_stack([pairs["l"].to_numpy(), pairs["r"].to_numpy()]).astype(np.int64).reshape(-1, 2)
    return np.asarray(list(pairs), dtype=np.int64).reshape(-1, 2)


def exclusive_codes(frame: pl.DataFrame, columns: list[str]) -> np.ndarray:
    """Per record and exclusive column, a code for its value (`NONE` where it has none): (rows, columns)."""
    if not columns:
        return np.full((frame.height, 0), NONE, dtype=np.int64)
    out = []
    for c in columns:
        series = frame[c]
        codes = series.rank("dense").cast(pl.Int64).fill_null(NONE + 1).to_numpy() - 1
        codes[series.is_null().to_numpy()] = NONE
        out.append(codes)
    return np.stack(out, axis=1)


def components(n: int, edge_list: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes: each node's label is the smallest node of its component.

    Vectorised hooking and pointer jumping: every round hooks the larger root of each edge whose ends
    differ under the smaller one, then flattens the trees, so the rounds grow with the log of a
    component's diameter, never with the number of records.
    """
    parent = np.arange(n, dtype=np.int64)
    left, right = edge_list[:, 0], edge_list[:, 1]
    while True:
        a, b = parent[left], parent[right]
        differ = a != b
        if not differ.any():
            return parent
        np.minimum.at(parent, np.maximum(a, b)[differ], np.minimum(a, b)[differ])
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def _conflicted(root: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The components (roots) holding two different values of some exclusive attribute."""
    found = []
    for j in range(values.shape[1]):
        column = values[:, j]
        has = column != NONE
        if not has.any():
            continue
        spread = (
            pl.DataFrame({"root": root[has], "value": column[has]})
            .group_by("root")
            .agg(pl.col("value").n_unique().alias("n"))
            .filter(pl.col("n") > 1)
        )
        found.append(spread["root"].to_numpy())
    return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)


def cluster(
    n: int, stages: list[np.ndarray], forbidden: np.ndarray, vetoes: np.ndarray, exclusive: np.ndarray | None = None
) -> np.ndarray:
    """A cluster label per record (the smallest member index) from the joins of the four ``stages``
    (must-link, steward, identity, scored; see the module text)."""
    labels = np.arange(n, dtype=np.int64)
    joins = np.concatenate(stages)
    if not joins.size:
        return labels
    exclusive = exclusive if exclusive is not None else np.full((n, 0), NONE, dtype=np.int64)
    nodes = np.unique(joins)  # records in some join, sorted: a component's smallest node is its smallest record
    root = components(nodes.size, np.searchsorted(nodes, joins))
    constraints = np.concatenate([forbidden, vetoes])
    inside = np.isin(constraints, nodes).all(axis=1)
    ends = np.searchsorted(nodes, constraints[inside])
    conflicted = np.union1d(root[ends[:, 0]][root[ends[:, 0]] == root[ends[:, 1]]], _conflicted(root, exclusive[nodes]))
    careful = np.isin(root, conflicted)
    labels[nodes[~careful]] = nodes[root[~careful]]
    if careful.any():
        chosen = nodes[careful]
        within = [stage[np.isin(stage[:, 0], chosen)] for stage in stages]
        labels[chosen] = _join_in_order(
            chosen, within, _adjacency(forbidden[np.isin(forbidden, chosen).all(axis=1)]), _adjacency(vetoes), exclusive
        )
    return labels


def _join_in_order(
    records: np.ndarray,
    stages: list[np.ndarray],
    forbidden: dict[int, list[int]],
    kept_apart: dict[int, list[int]],
    exclusive: np.ndarray,
) -> np.ndarray:
    """Union-find over ``records`` joining the stages' pairs in order, with the checks; the smallest member of
    each record's cluster. A check walks the forbidden partners of the smaller side, so a join costs the size
    of the smaller cluster, never the product of both; each cluster keeps one value per exclusive attribute."""
    parent = {int(i): int(i) for i in records}
    members = {int(i): [int(i)] for i in records}
    # Per cluster and exclusive attribute, the values it holds: one, unless a steward or a source record put
    # two together, and then a record holding either may still join.
    held = {int(i): [{int(v)} if v != NONE else set() for v in exclusive[int(i)]] for i in records}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def blocked(small: int, big: int, against: dict[int, list[int]]) -> bool:
        return any(y in parent and find(y) == big for x in members[small] for y in against.get(x, ()))

    def clash(a: int, b: int) -> bool:
        return any(x and y and not (x & y) for x, y in zip(held[a], held[b], strict=True))

    def join(a: int, b: int, checks: tuple[dict[int, list[int]], ...], exclusive_check: bool) -> None:
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra
        if exclusive_check and clash(ra, rb):
            return
        if any(against and blocked(rb, ra, against) for against in checks):
            return
        parent[rb] = ra
        members[ra].extend(members.pop(rb))
        held[ra] = [x | y for x, y in zip(held[ra], held.pop(rb), strict=True)]

    checks = [((), False), ((kept_apart,), False), ((kept_apart,), True), ((kept_apart, forbidden), True)]
    for stage, (check, exclusive_check) in zip(stages, checks, strict=True):
        for a, b in stage.tolist():
            join(a, b, check, exclusive_check)
    smallest = {root: min(group) for root, group in members.items()}
    return np.array([smallest[find(int(i))] for i in records], dtype=np.int64)

"""The graph of metrics built on metrics: no cycle, bounded depth, bounded size.

A derived metric's expression names other metrics; compiling it puts their
expressions in its place, all the way down. Three things can make that
impossible, and each is a validation error located at the metric's ``expr``
— never a ``RecursionError`` at run time:

- a cycle (``a`` uses ``b`` uses ``a``);
- a chain deeper than :data:`MAX_DEPTH` levels (``m999 = m998 + 1`` … took
  Python past its recursion limit when compiled, though ``validate`` passed),
  or an expression nested deeper than :data:`MAX_HEIGHT` once every metric in
  it is written out (each level of ``(m1 + 1) * 2`` adds three: the query
  would be too deep for a parser — sqlglot's, which checks it before it is
  sent, and the engine's);
- an expression that grows past :data:`MAX_NODES` nodes once every metric in it
  is replaced by its own expression: a metric that uses the previous one
  twice (``m2 = m1 + m1 * 2``) doubles at every level, so thirty levels make a
  billion nodes.

The walk is iterative (a project of 50,000 metrics is no deeper a Python stack
than one of five), and each metric is visited once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

__all__ = ["MAX_DEPTH", "MAX_HEIGHT", "MAX_NODES", "GraphIssue", "check_metric_graph"]

#: Levels of metrics built on metrics, at most.
MAX_DEPTH = 50
#: How deep a metric's expression may nest with every metric it uses written out.
MAX_HEIGHT = 60
#: Expression nodes of a metric with every metric it uses written out, at most.
MAX_NODES = 100_000


@dataclass(frozen=True)
class GraphIssue:
    """A problem to report at ``metric``'s expression."""

    metric: str
    message: str
    hint: str


def check_metric_graph(metrics: Mapping[str, Any]) -> tuple[list[GraphIssue], set[str]]:
    """Cycles, chains too deep and expressions too big among ``metrics`` (name → Metric).

    Returns the issues in a stable order — cycles first (each once, at its
    alphabetically first metric), then the first metric of each chain that is
    too deep or too big — and the metrics to leave out: those in a cycle, and
    those too deep or too big with every metric built on them.
    """
    issues: list[GraphIssue] = []
    order, cycles = _walk(metrics)
    for cycle in cycles:
        first = min(cycle[:-1])
        issues.append(GraphIssue(first, f"metrics reference each other in a cycle: "
                                        f"{' -> '.join(cycle)}", "Break the cycle"))
    in_cycle = {name for cycle in cycles for name in cycle}
    depth: dict[str, int] = {}
    size: dict[str, int] = {}
    height: dict[str, int] = {}
    bad: set[str] = set()
    for name in order:  # every metric after the metrics it uses
        if name in in_cycle:
            continue
        metric = metrics[name]
        targets = _targets(metric)
        used = [t for t in targets.values() if t in metrics and t not in in_cycle]
        if any(t in bad for t in used):
            bad.add(name)
            continue
        depth[name] = 1 + max((depth[t] for t in used), default=-1) if used else 0
        size[name], height[name] = _measure(metric, targets, size, height)
        if depth[name] > MAX_DEPTH:
            bad.add(name)
            issues.append(GraphIssue(
                name, f"metric {name!r} is built on {depth[name]} levels of metrics built on "
                      f"metrics; the limit is {MAX_DEPTH}",
                "Compute a step of the chain as a simple metric, or shorten the chain"))
        elif height[name] > MAX_HEIGHT:
            bad.add(name)
            issues.append(GraphIssue(
                name, f"metric {name!r} nests {height[name]} levels deep once the metrics it "
                      f"uses are written out; the limit is {MAX_HEIGHT}",
                "Compute a step of the chain as a simple metric, or shorten the chain"))
        elif size[name] > MAX_NODES:
            bad.add(name)
            issues.append(GraphIssue(
                name, f"metric {name!r} grows to {size[name]:,} expression nodes once the "
                      f"metrics it uses are written out; the limit is {MAX_NODES:,}",
                "A metric used several times is written out each time: use it fewer times "
                "per expression, or in fewer levels"))
    return issues, bad | in_cycle


def _targets(metric: Any) -> dict[str, str]:
    """Name in the expression → the metric it stands for (refs, and inputs by alias)."""
    targets = {ref: ref for ref in getattr(metric, "refs", ())}
    targets.update({alias: i.metric for alias, i in (getattr(metric, "inputs", {}) or {}).items()})
    return targets


def _measure(metric: Any, targets: Mapping[str, str], size: Mapping[str, int],
             height: Mapping[str, int]) -> tuple[int, int]:
    """(nodes, height) of ``metric``'s expression with the metrics it uses written out."""
    tree = getattr(metric, "expr", None)
    if not isinstance(tree, exp.Expr):
        return 1, 1
    nodes = tallest = 0
    pending = [(tree, 1)]
    while pending:
        node, level = pending.pop()
        nodes += 1
        tallest = max(tallest, level)
        if isinstance(node, exp.Column):
            target = targets.get(node.sql() if node.table else node.name)
            if target is not None:  # written out in parentheses in its place
                nodes += size.get(target, 1) - 1
                tallest = max(tallest, level + height.get(target, 1))
        pending.extend((child, level + 1) for child in node.iter_expressions())
    return nodes, tallest


def _walk(metrics: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Every metric in dependency order (post-order), and the cycles met, each once."""
    state: dict[str, int] = {}
    order: list[str] = []
    cycles: list[list[str]] = []
    reported: set[frozenset[str]] = set()
    for root in sorted(metrics):
        if root in state:
            continue
        state[root] = 1
        path = [root]
        pending = [iter(getattr(metrics[root], "refs", ()))]
        while pending:
            ref = next(pending[-1], None)
            if ref is None:
                pending.pop()
                done = path.pop()
                state[done] = 2
                order.append(done)
                continue
            if state.get(ref) == 1:
                cycle = path[path.index(ref):] + [ref]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    cycles.append(cycle)
            elif ref not in state and ref in metrics:
                state[ref] = 1
                path.append(ref)
                pending.append(iter(getattr(metrics[ref], "refs", ())))
    return order, cycles

"""Summarise a cProfile dump: where compile time goes, by area and by function.

    python bench/profile_summary.py OUT.pstats [--top 25]

Areas group functions by the module they live in (``sqlglot.generator``,
``sqlglot.parser``, ``kpispec.compile.plan``, ``yaml``, ``jsonschema``…), so
"sqlglot renders SQL" and "kpispec copies trees" show up as single lines.
"""

from __future__ import annotations

import argparse
import json
import pstats
import re
import sys
from typing import Any


def _area(filename: str) -> str:
    path = filename.replace("\\", "/")
    if path.startswith("~") or path.startswith("<"):
        return "builtins"
    stdlib = re.search(r"/lib/python3\.\d+/(?!site-packages/)", path)
    if "/bench/" in path:
        return "bench"
    for marker in ("/site-packages/", "/core/", "/plugins/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        if stdlib:
            path = path[stdlib.end():]
    parts = [p for p in path.removesuffix(".py").split("/") if p]
    if not parts:
        return "builtins"
    if parts[0] in ("sqlglot", "kpispec") and len(parts) > 1:
        return ".".join(parts[:3] if parts[1] in ("compile", "spec", "expressions", "dialects",
                                                  "generators", "parsers", "optimizer")
                        else parts[:2])
    return parts[0]


def summarise(path: str, top: int = 25) -> dict[str, Any]:
    stats = pstats.Stats(path)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in raw.values())
    areas: dict[str, float] = {}
    functions = []
    for (filename, line, name), (_, nc, tt, ct, _) in raw.items():
        area = _area(filename)
        areas[area] = areas.get(area, 0.0) + tt
        functions.append({"function": f"{area}:{name}" + (f":{line}" if line else ""),
                          "calls": nc, "self_s": tt, "cumulative_s": ct})
    by_self = sorted(functions, key=lambda f: -f["self_s"])[:top]
    by_cum = [f for f in sorted(functions, key=lambda f: -f["cumulative_s"])
              if not f["function"].startswith("builtins:")][:top]
    return {
        "total_s": total,
        "areas": {k: {"self_s": v, "share": v / total if total else 0.0}
                  for k, v in sorted(areas.items(), key=lambda kv: -kv[1])[:top]},
        "top_self": by_self,
        "top_cumulative": by_cum,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pstats")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    print(json.dumps(summarise(args.pstats, args.top), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

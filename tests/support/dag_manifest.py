"""A generated pipeline for the graph tests: N steps with fan-out, fan-in, long edges and chains."""

from __future__ import annotations

import random
from pathlib import Path

import yaml


def dag_steps(n: int = 200, seed: int = 7) -> list[tuple[str, list[str]]]:
    """(id, needs) in run order: a few sources, then steps reading 1 to 3 of the last 30 steps, some
    reading one step that many others read too (fan-out) and one reading many (fan-in)."""
    rnd = random.Random(seed)
    steps: list[tuple[str, list[str]]] = []
    for i in range(n):
        sid = f"step_{i:03d}"
        if i < 6 or rnd.random() < 0.05:
            needs: list[str] = []
        elif i % 50 == 49:  # fan-in: a join of many
            needs = [steps[j][0] for j in range(max(0, i - 12), i)]
        elif rnd.random() < 0.25:  # fan-out: many read the same hub
            needs = [steps[max(0, (i // 20) * 20 - 1)][0]]
        else:
            k = rnd.choice([1, 1, 1, 2, 3])
            needs = sorted({steps[rnd.randrange(max(0, i - 30), i)][0] for _ in range(k)})
        steps.append((sid, needs))
    return steps


def write_dag_manifest(root: Path, n: int = 200, seed: int = 7) -> Path:
    """A seed manifest of `dag_steps` (DuckDB steps selecting a constant), written under `root`."""
    path = root / "dag_manifest.yaml"
    doc = {"name": f"dag-{n}", "steps": [
        {"id": sid, "driver": "duckdb.processor", "needs": needs, "config": {"query": "SELECT 1 AS x"}}
        for sid, needs in dag_steps(n, seed)
    ]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path

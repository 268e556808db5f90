import json
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parents[2] / "testdata" / "vectors.json"


def vectors(kind: str) -> list[dict]:
    return json.loads(VECTORS.read_text(encoding="utf-8"))[kind]


def by_name(cases: list[dict]):
    return pytest.mark.parametrize("case", cases, ids=[case["name"] for case in cases])

"""The synthetic generator is deterministic: the same seed gives byte-identical files.

The digests below were computed from ``demo.generator.generate`` before it was split into
its phases (issue 12): a refactoring that changes one byte of an extract, of the registry
the simulator answers from, or of the ground truth fails here, naming the file. A change
that means to alter the synthetic data updates them (and says so in its commit).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from demo.generator import generate

CASES = {
    # 高知市 × kaigo_hoken, numbers in the extract, 性別 held
    "kochi": dict(n_rows=2500, agency="392014", jimu="kaigo_hoken", seed=3),
    # a 政令市 (residents registered in wards), numbers in a separate F1b file, no 性別
    "sapporo": dict(
        n_rows=1500, agency="011002", jimu="jidou_teate", seed=5, holds_sex=False, with_atena=True
    ),
}

DIGESTS = {
    "kochi": {
        "extract.csv": "7a54605d908b6ce7da3c2bee3d492a6727e853b49b6c25bb97816bcf211f7a66",
        "registry": "b55edef08378c51cc79bda064a547cb590fd715ba1d7a36d0e0e9657b7e080f6",
        "truth": "e9c420ae360b5114dad11138eb96edef9e793e6749db00b4b6972231808e1a72",
        "shared_numbers": "633bca8aa9775805096b34594bd2399cc56e8b9d7dc312c4ce78ba15a755f657",
    },
    "sapporo": {
        "extract.csv": "ac32e5a04ffdf8c95c83db96fb4a8fb77a98cf2ad7ab3ffffd2e0f6f9da61418",
        "atena.csv": "fc687e0a4ce8202b6b0951525f713ce7ee2beb0d39c2786687599c971b120eb5",
        "registry": "4c9726887b00f0c376c4fd4108ed9093a054d5c61665ec2d7cbef5d3181b75b1",
        "truth": "b0e98ae418a7c1ed52025511872c74220e2a9cbc68de2580557f6f3065a8ce8a",
        "shared_numbers": "3818df820b31b4c0453daa8c70ecbed9895ae2b72c413a11c1d7533c0059e78b",
    },
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digests(tmp_path: Path, kwargs: dict[str, Any]) -> dict[str, str]:
    data = generate(**kwargs)
    out = {"extract.csv": _sha(data.write_extract(tmp_path / "extract.csv").read_bytes())}
    if data.atena is not None:
        out["atena.csv"] = _sha(data.write_atena(tmp_path / "atena.csv").read_bytes())
    out["registry"] = _sha(data.registry.write_csv().encode())
    out["truth"] = _sha(data.truth.write_csv().encode())
    out["shared_numbers"] = _sha(data.shared_numbers().write_csv().encode())
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_gives_the_pinned_files(tmp_path: Path, name: str) -> None:
    assert digests(tmp_path, CASES[name]) == DIGESTS[name]

"""The same seed gives a byte-identical JSON report, timings aside; another seed does not.

Contract: two runs of ``python -m conformance check`` with the same seed, versions and machine.
Note: inside a pytest worker that had run other test files first, the MobileNet Table 3 layer's
parity error came out 8.3e-7 where fresh interpreters give 5.2e-7 (both far inside the
tolerance): some process state left by an earlier test changes a float32 summation order. Not
pinned down yet; hence fresh interpreters here."""

import json
import os
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
ARGS = ["check", "--model", "srcnn", "mobilenet_v1_table3_depthwise_separable", "--checks", "params,macs,parity,train"]
TIMING_KEYS = ("timings",)          # the report's one machine-dependent key


def _strip_timings(path: Path) -> bytes:
    """The report re-serialised without its timing key (same json.dumps settings as the CLI)."""
    report = json.loads(path.read_text())
    for key in TIMING_KEYS:
        assert key in report, f"the report lost its {key!r} key; update TIMING_KEYS"
        del report[key]
    return (json.dumps(report, indent=2, sort_keys=False) + "\n").encode()


def _differences(a: object, b: object, path: str = "") -> list[str]:
    """JSON paths where two reports differ (for a readable failure)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in a.keys() | b.keys() for d in _differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def _run_cli(path: Path, seed: int) -> bytes:
    """``python -m conformance check`` in a fresh interpreter, as a user runs it (a long-lived
    process that ran other work first is not the contract: see the module's note)."""
    subprocess.run([sys.executable, "-m", "conformance", *ARGS, "--seed", str(seed), "--json", str(path)],
                   cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": str(seed * 7919)}, check=True,
                   capture_output=True)
    return _strip_timings(path)


def test_same_seed_same_bytes_different_seed_different_numbers(tmp_path):
    a = _run_cli(tmp_path / "a.json", 3)
    b = _run_cli(tmp_path / "b.json", 3)
    assert a == b, _differences(json.loads(a), json.loads(b))[:10]
    # the test can fail: another seed moves the parity numbers
    d = json.loads(_run_cli(tmp_path / "d.json", 4))
    a_rec = json.loads(a)
    for ra, rd in zip(a_rec["results"], d["results"]):
        # per-input errors and output scales: the max error alone is a few float32 ulps and can
        # land on the same ulp for two seeds (the Table 3 layer: 2**-19 at seeds 3 and 4)
        assert ra["parity"]["inputs"] != rd["parity"]["inputs"], ra["model"]
        assert ra["params"] == rd["params"]            # seed-independent checks stay put
    # and the timings are there, apart
    timings = json.loads((tmp_path / "a.json").read_text())["timings"]
    assert set(timings["per_network_seconds"]) == {"srcnn", "mobilenet_v1_table3_depthwise_separable"}

"""``python -m benchmark.soak``: the main job killed at random moments and resumed, until its
report is whole; that report must equal an uninterrupted run's, timings aside.

    python -m benchmark.soak --kills N --out DIR [--seed S] [-- BENCHMARK ARGUMENTS]

The benchmark arguments default to ``--quick --model srcnn --runtime torch_eager keras_tf
onnx_torch``. First an uninterrupted run (its own cache) gives the reference report and its wall
time W. Then rounds, each in a fresh directory with a fresh cache: the same command is started,
killed with SIGKILL (its whole process group: workers too, as a power cut or the OOM killer would)
after a delay drawn from [0.1 W, W], and started again with ``--resume`` (without it while the
killed run had not written a report yet), until a run ends by itself. Each round's report is
compared with the reference (``comparable``: every ``timing`` section, the command line and the
clock-derived peak left out) and its directory searched for temporary files left behind. Rounds go
on until N kills have landed. Writes ``DIR/soak.json``; exit 0 when every round's report equals the
reference and nothing was left behind, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ARGS = ["--quick", "--model", "srcnn", "--runtime", "torch_eager", "keras_tf", "onnx_torch"]
IGNORED = ("timing", "command", "peak")        # measured, not computed: they differ between two runs


@dataclass
class Attempt:
    resumed: bool
    delay_seconds: float | None               # None: not to be killed, ran to its end
    seconds: float
    killed: bool
    exit_code: int | None
    report_written: bool


@dataclass
class Round:
    directory: str
    attempts: list[Attempt] = field(default_factory=list)
    equal: bool | None = None
    differences: list[str] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)

    @property
    def kills(self) -> int:
        return sum(a.killed for a in self.attempts)


def comparable(report: Any) -> Any:
    """``report`` without what two runs of the same command measure differently."""
    if isinstance(report, dict):
        return {k: comparable(v) for k, v in report.items() if k not in IGNORED}
    if isinstance(report, list):
        return [comparable(v) for v in report]
    return report


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two JSON values differ (paths), the first few."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}/{k}: only in one" for k in sorted(set(a) ^ set(b), key=str)]
        for k in sorted(set(a) & set(b), key=str):
            out += differences(a[k], b[k], f"{where}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {json.dumps(a)[:120]} != {json.dumps(b)[:120]}"]


def left_behind(directory: Path) -> list[str]:
    """Temporary files and directories of twinzoo's writers still in ``directory``."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob(".*")
                  if p.name.endswith((".tmp", ".restore")) or p.name.startswith((".port-", ".tmp-", ".drop-")))


def _command(out: Path, cache: Path, args: list[str], resume: bool) -> list[str]:
    return [sys.executable, "-m", "benchmark", *args, "--out", str(out), "--cache", str(cache),
            *(["--resume"] if resume else [])]


def _run(cmd: list[str], delay: float | None, log: Path) -> tuple[bool, int | None]:
    """Run ``cmd`` in its own process group; SIGKILL the group after ``delay`` seconds if it is
    still running. (killed, exit code)."""
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=fh, start_new_session=True)
        try:
            code = proc.wait(timeout=delay)
            return False, code
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            _reap_group(proc.pid)
            return True, None


def _reap_group(pgid: int) -> None:
    """Wait until no process of the killed group is left (workers die with it)."""
    for _ in range(100):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def soak(out: Path, args: list[str], kills: int, seed: int, log=print) -> dict[str, Any]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    ref = out / "reference"
    shutil.rmtree(ref, ignore_errors=True)
    t0 = time.monotonic()
    killed, code = _run(_command(ref / "out", ref / "cache", args, False), None, out / "reference.log")
    wall = time.monotonic() - t0
    if code not in (0, 1):
        raise RuntimeError(f"the uninterrupted run failed (exit {code}): see {out / 'reference.log'}")
    reference = comparable(json.loads((ref / "out" / "benchmark.json").read_text()))
    log(f"uninterrupted run: {wall:.1f} s, exit {code}")
    rounds: list[Round] = []
    while sum(r.kills for r in rounds) < kills:
        d = out / f"round-{len(rounds) + 1}"
        shutil.rmtree(d, ignore_errors=True)
        rnd = Round(str(d))
        rounds.append(rnd)
        while True:
            resumed = (d / "out" / "benchmark.json").exists()
            delay = rng.uniform(0.1 * wall, wall) if sum(r.kills for r in rounds) < kills else None
            t1 = time.monotonic()
            was_killed, code = _run(_command(d / "out", d / "cache", args, resumed), delay, d.with_suffix(".log"))
            seconds = time.monotonic() - t1
            rnd.attempts.append(Attempt(resumed, round(delay, 2) if delay else None, round(seconds, 1), was_killed,
                                        code, (d / "out" / "benchmark.json").exists()))
            log(f"{d.name}: {'killed after' if was_killed else 'ended, exit ' + str(code) + ', after'} "
                f"{seconds:.1f} s{' (resumed)' if resumed else ''}")
            if not was_killed:
                break
        got = comparable(json.loads((d / "out" / "benchmark.json").read_text()))
        rnd.differences = differences(reference, got)[:20]
        rnd.equal = not rnd.differences
        rnd.left_behind = left_behind(d)
        log(f"{d.name}: {rnd.kills} kill(s); report {'equals' if rnd.equal else 'DIFFERS from'} the uninterrupted "
            f"run's; {len(rnd.left_behind)} temporary file(s) left behind")
    result = {"command": _command(Path("DIR"), Path("CACHE"), args, False), "seed": seed,
              "uninterrupted_seconds": round(wall, 1), "kills": sum(r.kills for r in rounds),
              "rounds": [{**asdict(r), "kills": r.kills} for r in rounds],
              "passed": all(r.equal and not r.left_behind for r in rounds)}
    (out / "soak.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    own, rest = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(prog="python -m benchmark.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=20, help="kills to land in all (default 20)")
    p.add_argument("--out", type=Path, required=True, help="working directory (reference run, rounds, soak.json)")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill delays (default 0)")
    try:
        args = p.parse_args(own)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.kills < 1:
        print("error: --kills must be at least 1", file=sys.stderr)
        return 2
    if any(a in ("--out", "--cache", "--resume", "--no-cache") for a in rest):
        print("error: the soak sets --out, --cache and --resume itself", file=sys.stderr)
        return 2
    result = soak(args.out, rest or DEFAULT_ARGS, args.kills, args.seed)
    print(f"{result['kills']} kills in {len(result['rounds'])} round(s): "
          + ("every report equals the uninterrupted run's, nothing left behind" if result["passed"] else "FAILED")
          + f"; {args.out / 'soak.json'}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""One run of the main job as its command line fixed it: every value checked and resolved (the
networks and runtimes chosen, the size parsed, the output and cache directories proved writable,
the ported weights checked against their certificates) before any work, then read-only."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from benchmark.runtimes import RUNTIMES, UnknownRuntimeError
from benchmark.runtimes import get as get_runtime
from benchmark.suite import BENCH_NETWORKS, QUICK_LEFT_OUT, ROUTE_BUDGET_MINUTES
from twinzoo import arguments, catalogue
from twinzoo.arguments import ArgumentError

DEFAULT_CONFORMANCE = "params,macs,parity"
# --quick times the twins themselves only: every export route costs seconds to tens of seconds
QUICK_RUNTIMES = ("torch_eager", "keras_tf")


@dataclass(frozen=True)
class RunConfig:
    networks: tuple[str, ...] = ()              # to time, in run order
    runtimes: tuple[str, ...] = ()
    size: tuple[int, int] | None = None         # --size: one size for every network
    size_arg: str | None = None                 # --size as typed (the report's request records it)
    out: Path = Path("reports")
    quick: bool = False
    seed: int = 0
    threads: int = 1
    jobs: int = 1
    checks: tuple[str, ...] = ()                # the conformance checks of the rows (none: no rows)
    model: tuple[str, ...] | None = None        # --model as asked (None: the default networks)
    conformance_model: tuple[str, ...] | None = None
    weights: Path | None = None                 # certified ports to time instead of random weights
    no_witnesses: bool = False
    route_budget: float = ROUTE_BUDGET_MINUTES  # minutes per export route; 0: none
    cache: Path | None = None                   # None: --no-cache
    retime: bool = False
    resume: bool = False

    @property
    def route_budget_seconds(self) -> float | None:
        """``--route-budget`` in seconds, as the export jobs and the cache lookups take it; None: no budget."""
        return self.route_budget * 60 or None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunConfig:
        """The run ``args`` ask for; an ``ArgumentError`` naming the flag for any bad value."""
        from export.cli import check_cache_dir, check_weights_dir
        try:
            models = arguments.selection("--model", args.model, catalogue.names())
            chosen = arguments.selection("--runtime", args.runtime, list(RUNTIMES))
            names = [catalogue.get(n).name for n in models] if models else \
                [n for n in BENCH_NETWORKS if not (args.quick and n in QUICK_LEFT_OUT)]
            rts = [get_runtime(r).name for r in chosen] if chosen else list(QUICK_RUNTIMES if args.quick else RUNTIMES)
        except (catalogue.UnknownModelError, UnknownRuntimeError) as exc:
            raise ArgumentError(str(exc)) from None
        size = arguments.size(args.size)
        arguments.seed(args.seed)
        weights = check_weights_dir(args.weights, names)
        if args.jobs < 0:
            raise ArgumentError(f"--jobs {args.jobs}: must be 0 or more")
        if args.threads < 1:
            raise ArgumentError(f"--threads {args.threads}: must be at least 1")
        if not args.route_budget >= 0:                # NaN too
            raise ArgumentError(f"--route-budget {args.route_budget}: must be 0 (no budget) or more minutes")
        asked = args.conformance or ("none" if args.quick else DEFAULT_CONFORMANCE)
        checks = () if asked == "none" else tuple(c.strip() for c in asked.split(",") if c.strip())
        from conformance import CHECK_NAMES
        if set(checks) - set(CHECK_NAMES):
            raise ArgumentError(f"--conformance: unknown check(s) {sorted(set(checks) - set(CHECK_NAMES))}; "
                                f"known: {', '.join(CHECK_NAMES)}")
        out = arguments.out_dir(args.out)
        return cls(networks=tuple(names), runtimes=tuple(rts), size=size, size_arg=args.size, out=out, quick=args.quick, seed=args.seed,
                   threads=args.threads, jobs=args.jobs, checks=checks, model=tuple(models) if models else None,
                   conformance_model=tuple(args.conformance_model) if args.conformance_model else None,
                   weights=weights, no_witnesses=args.no_witnesses, route_budget=args.route_budget,
                   cache=check_cache_dir(args), retime=args.retime, resume=args.resume)

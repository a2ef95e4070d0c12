"""The typed records of the main job's report (``benchmark.json``): per network, per runtime,
their timings, the conformance rows and the report itself. Like ``export.records`` they are
``TypedDict``s over the JSON the report is; ``benchmark/schema.py`` is what a report read back
must satisfy, and ``tests/test_records.py`` holds a produced report to these declarations.
Everything that differs between two runs of the same seed is under a ``timing`` key
(``benchmark.report.strip_timing``)."""

# (no postponed annotations here: TypedDict must see ``Required`` itself)
from typing import Any, Required, TypedDict

from export.records import ExportRecord, ToolLimitNote
from twinzoo.status import CheckStatus, RuntimeStatus, VerificationStatus


class RuntimeTiming(TypedDict, total=False):
    median_ms: float
    p90_ms: float
    min_ms: float
    mean_ms: float
    runs: int
    gmacs_per_s: float
    peak_fraction: float          # of the CPU's float32 peak (``benchmark.peak``)
    first_call_seconds: float | None    # the torch twin's variants: the first call (torch.compile: the compile)
    export_seconds: float | None
    verify_seconds: float | None
    export_peak_rss_bytes: int | None
    from_cache: dict[str, str]    # {"measured": when}: reused from the artifact cache


class Artifact(TypedDict):
    path: str
    bytes: int
    sha256: str


class RuntimeVerification(TypedDict, total=False):
    """What the report keeps of an artifact's verification (the rest is in the manifest)."""
    status: Required[VerificationStatus | str]     # also "reference": the torch twin itself
    passed: Required[bool | None]
    max_abs: float
    max_rel: float
    snr_db: float
    psnr_db: float
    top1_agreement: float
    criterion: str
    reference: str
    error: str
    reason: str


class RuntimeRecord(TypedDict, total=False):
    """One network in one runtime (``benchmark.suite.bench_runtime``)."""
    runtime: Required[str]
    label: Required[str]
    source: Required[str]
    precision: str
    status: Required[RuntimeStatus]
    format: str                   # an exported runtime: its export route
    artifact: Artifact
    verification: RuntimeVerification
    faithful: bool | None
    device_benchmark: list[str]
    tool_limit: ToolLimitNote     # a known limit of its route's tool (export.limits)
    timing: RuntimeTiming
    reason: str                   # skipped: why
    stage: str                    # error: where (export, open, run, preparing the twins)
    error: str
    traceback: str


class Fastest(TypedDict, total=False):
    runtime: Required[str]
    median_ms: Required[float]
    precision: str


class NetworkTiming(TypedDict, total=False):
    prepare_seconds: float
    bench_seconds: float
    export_job_seconds: float | None
    export_job_peak_rss_bytes: int
    fastest: Fastest | None
    fastest_fp32: Fastest | None
    choose_line: str


class Smallest(TypedDict):
    runtime: str
    bytes: int


class Unfaithful(TypedDict):
    runtime: str
    error: str                    # how far from its source (``benchmark.report.error_text``)


class Failed(TypedDict):
    runtime: str
    stage: str | None
    error: str


class Choose(TypedDict):
    """What the report's "choose" line is made of (``benchmark.report.choose``)."""
    smallest: Smallest | None
    unfaithful: list[Unfaithful]
    failed: list[Failed]


class NetworkRecord(TypedDict, total=False):
    network: Required[str]
    task: str
    description: str
    size: Required[list[int]]
    size_from: Required[str]
    channels: int
    macs: int
    weights: str | dict[str, Any]
    runtimes: Required[dict[str, RuntimeRecord]]
    choose: Choose
    timing: NetworkTiming
    export_records: list[ExportRecord]      # while the run holds them; written to the manifest


class ConformanceRow(TypedDict, total=False):
    model: Required[str]
    passed: Required[bool]
    checks: Required[dict[str, CheckStatus | str]]    # "worker": "error" when its worker died
    summaries: dict[str, str | None]
    parity_max_rel: float | None
    timing: dict[str, float]


class Conformance(TypedDict):
    checks: list[str]
    rows: list[ConformanceRow]
    passed: int
    note: str


class Report(TypedDict, total=False):
    schema: Required[str]
    mode: Required[str]           # full | quick
    seed: Required[int]
    command: str
    scope: Required[str]
    settings: Required[dict[str, Any]]
    environment: Required[dict[str, Any]]
    peak: dict[str, Any]
    networks: Required[list[NetworkRecord]]
    witnesses: list[dict[str, Any]]
    conformance: Conformance | None
    timing: dict[str, Any]

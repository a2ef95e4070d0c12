"""The typed records of an export: one route's record as the manifest, the artifact cache, the
journal and the main job's report hold it. They are JSON documents (written, cached and merged
across runs), so they are ``TypedDict``s: typed for a reader and a type checker, with no
conversion layer between the type and the JSON. A key that is not ``Required`` appears only
where it applies (a failed route has an ``error``, a verified one a ``verification``);
``tests/test_records.py`` holds produced records to these declarations.
"""

# (no postponed annotations here: TypedDict must see ``Required`` itself)
from typing import Any, Required, TypedDict

from twinzoo.status import ArtifactOutcome, VerificationStatus


class InputSpec(TypedDict):
    shape: list[int]
    layout: str                  # NCHW | NHWC | NSF (sequence) | NS (tokens)
    dtype: str
    range: list[float]
    size_from: str               # why this size


class Converter(TypedDict):
    name: str
    versions: dict[str, str | None]


class RuntimeInfo(TypedDict):
    name: str | None
    version: str | None


class ErrorStats(TypedDict, total=False):
    """An artifact's outputs against its source twin's (``export.metrics.error_stats``)."""
    max_abs: float
    mean_abs: float
    ref_scale: float
    snr_db: float
    cosine: float
    finite: bool
    psnr_db: float               # image outputs
    psnr_peak: float
    top1_agreement: float        # classifiers


class OtherInputs(ErrorStats, total=False):
    kind: list[str]


class TopOneOverImages(TypedDict):
    images: int
    agree: int
    agreement: float
    bar: float
    passed: bool
    criterion: str


class Verification(ErrorStats, total=False):
    """The artifact run in its runtime and judged (``export.pipeline.verify``)."""
    status: Required[VerificationStatus]
    passed: Required[bool | None]
    runtime: str
    reference: str
    inputs: list[str]
    criterion: str
    max_rel: float
    shape_mismatch: str
    judged_on: str               # reduced precision: the inputs judged
    other_inputs: OtherInputs    # reduced precision: the inputs reported beside
    top1_images: TopOneOverImages
    reason: str                  # not run: why
    error: str
    traceback: str


class CrossRoute(TypedDict, total=False):
    """The artifact against its partner route's (the same network from the other twin)."""
    against: str
    max_abs: float
    max_rel: float
    within_tolerance: bool
    computed: bool               # False: not compared, ``reason`` says why
    reason: str


class NnapiSummary(TypedDict, total=False):
    report: str                  # the full report's path, beside the artifact
    summary: str
    whole_graph_from_api: int | None
    blocking_ops: list[Any]
    accepted_ops_at_api: dict[str, int]
    ops: int                     # how many ops the model has
    source: str
    deprecation: str
    error: str                   # the report could not be made
    traceback: str


class CacheNote(TypedDict, total=False):
    hit: bool
    key: str
    stored: str                  # a hit: when the record was stored
    not_stored: str              # a miss not stored: why


class ToolLimitNote(TypedDict):
    """A known limit of the route's tool for this network (``export.limits``)."""
    name: str
    what: str
    repro: str                   # the minimal repro, under docs/limits/


class ExportRecord(TypedDict, total=False):
    """One route of one network (``export.pipeline.run_format``)."""
    network: Required[str]
    task: Required[str]
    format: Required[str]
    description: Required[str]
    source_framework: Required[str]
    precision: Required[str]
    input: Required[InputSpec]
    converter: Required[Converter]
    runtime: Required[RuntimeInfo]
    outcome: Required[ArtifactOutcome]
    reason: str                  # skipped: why
    path: str | None             # relative to the output directory; None: no artifact
    bytes: int
    sha256: str
    notes: dict[str, Any]        # what the converter did (opset, optimisation, delegate)
    benchmark: list[str]         # the on-device benchmark commands
    verification: Verification
    cross_route: CrossRoute
    nnapi_delegate: NnapiSummary
    export_seconds: float
    verify_seconds: float
    peak_rss_bytes: int | None   # the route's peak resident set, isolated children included
    weights: str | dict[str, Any]    # "random", or the certified port's description
    cache: CacheNote
    tool_limit: ToolLimitNote
    error: str
    traceback: str
    stage: str                   # where a failure outside the route happened
    ran_alone: bool              # a memory-guard kill while no other job ran beside it
    budget_seconds: float | None  # a time-budget kill: the budget it had


class ExportJobResult(TypedDict, total=False):
    """What one export job of the main job returns (``benchmark.parallel.export_job``)."""
    kind: Required[str]          # "export"
    name: Required[str]
    records: list[ExportRecord]
    seconds: float | None
    peak_rss_bytes: int | None   # the whole job's peak
    error: str
    traceback: str
    partial: bool                # recovered from a dead worker's journal

"""Every outcome word a record of twinzoo carries, in one place, and which words each kind of
record may carry. The words are the reports' own (JSON, Markdown, manifests), so they are plain
strings, compared as such; the ``Literal`` types give the typed records (``export.records``,
``benchmark.records``) the same words."""

from __future__ import annotations

from typing import Literal, get_args

PASS = "pass"                              # judged and within its line
FAIL = "fail"                              # judged and outside it
ERROR = "error"                            # raised before a judgement
SKIP = "skip"                              # a check that does not apply (no graph, no witness), with why
OK = "ok"                                  # a runtime that ran (its faithfulness is judged apart)
SKIPPED = "skipped"                        # a route or runtime not run here (not installed, no artifact)
EXPORT_FAILED = "export failed"            # the converter raised or was stopped: no artifact
NOT_VERIFIABLE = "not verifiable on host"  # an artifact no runtime here can run (NNAPI)
NOT_RUN = "not run"                        # a verification that could not run

# which words each record may carry
CheckStatus = Literal["pass", "fail", "error", "skip"]                                   # a conformance check
VerificationStatus = Literal["pass", "fail", "error", "not run"]                         # an artifact's run
ArtifactOutcome = Literal["pass", "fail", "export failed", "not verifiable on host", "skipped"]  # an export route
RuntimeStatus = Literal["ok", "error", "skipped"]                                        # a benchmarked runtime

CHECK: tuple[str, ...] = get_args(CheckStatus)
VERIFICATION: tuple[str, ...] = get_args(VerificationStatus)
ARTIFACT: tuple[str, ...] = get_args(ArtifactOutcome)
RUNTIME: tuple[str, ...] = get_args(RuntimeStatus)
WORDS = frozenset({PASS, FAIL, ERROR, SKIP, OK, SKIPPED, EXPORT_FAILED, NOT_VERIFIABLE, NOT_RUN})

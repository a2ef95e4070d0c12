"""Every outcome word a record of twinzoo carries, in one place, and which words each kind of
record may carry. The words are the reports' own (JSON, Markdown, manifests), so they are plain
strings, compared as such."""

from __future__ import annotations

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
CHECK = (PASS, FAIL, ERROR, SKIP)                                    # a conformance check's status
VERIFICATION = (PASS, FAIL, ERROR, NOT_RUN)                          # an artifact's run in its runtime
ARTIFACT = (PASS, FAIL, EXPORT_FAILED, NOT_VERIFIABLE, SKIPPED)      # an exported artifact's outcome
RUNTIME = (OK, ERROR, SKIPPED)                                       # a benchmarked runtime's status

"""twinzoo's benchmark: every AI Benchmark network in every available runtime, against its
witnesses, with the conformance of the whole catalogue, as one HTML/Markdown/JSON report.

    python -m benchmark [--model NAME ...] [--runtime NAME ...] [--quick] [--threads N] [--out DIR]
    python -m benchmark merge SHARD.json ... --out DIR
"""

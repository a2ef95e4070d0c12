"""twinzoo: the AI Benchmark networks defined in PyTorch and in Keras 3, and proven equal."""

__version__ = "0.1.0"

"""Export of the twins to mobile formats (ONNX, TFLite/LiteRT, PyTorch Mobile, ExecuTorch).

Not built yet: the export pipeline is its own issue. This package holds its place in the layout.
"""

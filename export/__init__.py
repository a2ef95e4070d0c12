"""Export of the twins to mobile formats, each artifact verified in its real runtime.

    python -m export [--model NAME ...] [--format NAME ...] [--size HxW] [--seed N] --out DIR

Routes (``export.formats.FORMATS``, the registry): torch -> ONNX (dynamo exporter), Keras -> ONNX
(tf2onnx), Keras -> TFLite/LiteRT in float32, float16, dynamic-range int8 and full int8, torch ->
TFLite through litert-torch, torch -> PyTorch Mobile Lite (.ptl), torch -> ExecuTorch (.pte,
XNNPACK) and torch -> NNAPI (torch.backends._nnapi), plus an NNAPI delegate-compatibility report
for every .tflite. Every run writes one ``manifest.json`` (``export.manifest``).

The converters and runtimes come with the ``export`` extra: ``pip install -e '.[export]'``.
"""

"""The library of conformance that export and benchmark build on: inputs, weight transfer and
weight files, parity comparison, counting, dtypes, certificates."""

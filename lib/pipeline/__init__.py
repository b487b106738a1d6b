"""The pipeline layer: cached run records, atomic writes, checkpoints, provenance, the runner, devices and
notebook parameters."""

"""Counting shared by the model, the benchmarks, the analyses and the tools:
MACs and parameters of segmentors (MMEngine's counter), and MMSeg's model
zoo. Nothing here imports the package's other rooms."""

"""Counting shared by the benchmarks, the analyses and the tools: MACs and
parameters of segmentors and of video frames, and MMSeg's model zoo."""

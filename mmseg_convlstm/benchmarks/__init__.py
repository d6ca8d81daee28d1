"""What things cost, measured side by side with MMSeg's baselines in one
run: inference latency and memory, training iterations, the budget curve,
clip-training memory, video frames, per-position exit, and the measured
table of trained models."""

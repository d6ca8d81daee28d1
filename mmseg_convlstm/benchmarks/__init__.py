"""What things cost, measured side by side with MMSeg's baselines in one
run: inference latency and memory, training iterations, the budget curve,
clip-training memory, video frames, per-position exit, and the measured
table of trained models.

Every benchmark builds on the same few modules: :mod:`.workload` (the model
loader and the random batches), :mod:`.latency` (the timed runs),
:mod:`.memory` (peak training memory), :mod:`.baselines` (MMSeg's models
and their titles), :mod:`.exit_rules` (rules given as ``key=value``) and
:mod:`.formatting` (GMACs and ratios in the tables)."""

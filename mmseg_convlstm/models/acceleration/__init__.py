"""Speed-ups that keep the results: CUDA graphs and the fused cell step."""

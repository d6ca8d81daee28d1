"""When the recurrent steps stop: the one step loop and its rules (fixed
steps, time budget, per-image and per-position exit)."""

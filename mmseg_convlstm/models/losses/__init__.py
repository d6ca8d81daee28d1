"""The losses of every training step, without full-resolution upsampling."""

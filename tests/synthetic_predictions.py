"""Predictions with the flaw of a network at a coarse output stride."""
import numpy as np
from PIL import Image


def coarse_prediction(labels: np.ndarray,
                      stride: int = 8,
                      num_classes: int = 3) -> np.ndarray:
    """What a network at output stride ``stride`` draws: the class shares
    of every ``stride`` x ``stride`` cell, upsampled bilinearly, argmax (thin
    structures vanish, edges round off). The labels' size must be a multiple
    of ``stride``; labels outside ``0 .. num_classes - 1`` count for none."""
    height, width = labels.shape
    cells = (height // stride, width // stride)
    scores = []
    for label in range(num_classes):
        share = (labels == label).astype(np.float32)
        share = share.reshape(cells[0], stride, cells[1], stride).mean((1, 3))
        scores.append(
            np.asarray(
                Image.fromarray(share, mode='F').resize((width, height),
                                                        Image.BILINEAR)))
    return np.argmax(scores, axis=0).astype(np.uint8)

"""Where in spatial frequency a segmentation puts its edges.

The paper's Figure 8 compares the power spectra of predicted and ground-truth
class maps: a network that predicts at output stride 16 and upsamples
bilinearly cannot draw thin structures (bicycle spokes), so its maps lack
high-frequency power. These functions compute that comparison.

Conventions:

- A class map is binary: 1 where a pixel has the class, 0 elsewhere; ignored
  pixels belong to no class. The power spectrum of a set of classes is the
  sum of the power spectra of their class maps (one-hot channels).
- Spatial frequency is in cycles per pixel, radially: ``sqrt(fx**2 + fy**2)``
  with ``fx, fy`` in [-0.5, 0.5). Only radii up to the Nyquist frequency 0.5
  are kept: beyond it lie the corners of the spectrum, sampled along the
  diagonals only, so an annulus there would not average over all directions.
- The DC term (frequency 0) is left out: it measures how much of the image
  the classes cover, not the shape of their regions, and would otherwise
  hold most of the power.
- The radially averaged power spectral density (PSD) of an image is the mean
  power of the frequencies in each bin of :func:`frequency_bin_edges` over
  (0, 0.5]. Bins that no frequency of a small image falls into are
  interpolated from their neighbours, so images of any size give values on
  the same bins. It is normalised as a density over the disc of frequencies
  of radius 0.5: ``sum(psd * ring_areas(edges)) == 1``, so every image weighs
  the same when averaged (:class:`SpectrumAccumulator`).
- Its cumulative distribution (:func:`cumulative_distribution`) is the share
  of the power at radii up to each bin's upper edge: the PSD integrated over
  the rings (a bin at radius f holds a ring of area about 2 pi f df); by
  Parseval's theorem, close to the share of the map's variance. It rises
  from 0 at frequency 0 to 1 at 0.5.
"""
from typing import Optional, Sequence

import numpy as np

NYQUIST = 0.5


def frequency_bin_edges(num_bins: int = 50) -> np.ndarray:
    """``num_bins + 1`` equally spaced edges from 0 to the Nyquist frequency
    0.5 cycles per pixel; bin ``i`` is ``(edges[i], edges[i + 1]]``."""
    if num_bins < 1:
        raise ValueError(f'num_bins must be at least 1, got {num_bins}')
    return np.linspace(0.0, NYQUIST, num_bins + 1)


def bin_centres(edges: np.ndarray) -> np.ndarray:
    """The middle of every frequency bin."""
    return 0.5 * (edges[:-1] + edges[1:])


def ring_areas(edges: np.ndarray) -> np.ndarray:
    """Area of the ring of frequencies of every bin (cycles per pixel,
    squared)."""
    return np.pi * np.diff(np.asarray(edges)**2)


def radial_frequencies(height: int, width: int) -> np.ndarray:
    """Radial frequency (cycles per pixel) of every entry of the (unshifted)
    2-D discrete Fourier transform of a ``height`` x ``width`` image."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    return np.hypot(fy, fx)


def power_spectrum(maps: np.ndarray) -> np.ndarray:
    """Power ``|F|**2 / (H * W)`` of the 2-D Fourier transform of a map
    (H, W), or the sum over a stack of maps (C, H, W); DC at ``[0, 0]``."""
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3:
        raise ValueError(
            f'expected a map (H, W) or maps (C, H, W), got {maps.shape}')
    spectra = np.abs(np.fft.fft2(maps))**2
    return spectra.sum(axis=0) / (maps.shape[1] * maps.shape[2])


def radial_psd(maps: np.ndarray, edges: np.ndarray) -> Optional[np.ndarray]:
    """Radially averaged power spectral density of a map (H, W) or the sum
    over maps (C, H, W), without DC, normalised as a density (see the
    module's notes).

    Returns:
        np.ndarray | None: One value per bin of ``edges``; None when the maps
        are constant (no power outside DC).
    """
    power = power_spectrum(maps)
    radius = radial_frequencies(*power.shape)
    kept = (radius > 0) & (radius <= edges[-1])
    bins = np.digitize(radius[kept], edges, right=True) - 1
    counts = np.bincount(bins, minlength=len(edges) - 1)
    sums = np.bincount(bins, weights=power[kept], minlength=len(edges) - 1)
    filled = counts > 0
    if not filled.any():
        return None
    centres = bin_centres(edges)
    psd = np.interp(centres, centres[filled], sums[filled] / counts[filled])
    total = np.sum(psd * ring_areas(edges))
    # Numerical noise of the FFT of a constant map is ~1e-30 of its power.
    if total <= 1e-12 * power[0, 0]:
        return None
    return psd / total


def class_maps(labels: np.ndarray,
               classes: Sequence[int],
               ignore_index: Optional[int] = 255) -> np.ndarray:
    """One binary map (C, H, W) per class of ``classes`` from a label map
    (H, W); pixels equal to ``ignore_index`` are 0 in every map."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f'expected a label map (H, W), got {labels.shape}')
    maps = labels[None] == np.asarray(classes).reshape(-1, 1, 1)
    if ignore_index is not None:
        maps &= labels[None] != ignore_index
    return maps


def class_psd(labels: np.ndarray,
              classes: Sequence[int],
              edges: np.ndarray,
              ignore_index: Optional[int] = 255) -> Optional[np.ndarray]:
    """Normalised radially averaged PSD of the class maps of ``classes`` in
    a label map (see :func:`radial_psd`); None when they are constant (no
    pixel, or every pixel, of those classes)."""
    return radial_psd(class_maps(labels, classes, ignore_index), edges)


def cumulative_distribution(psd: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of the power at radial frequencies up to each bin's upper edge:
    the PSD integrated over the rings of frequencies; it ends at 1."""
    psd = np.asarray(psd, dtype=np.float64)
    if np.any(psd < 0):
        raise ValueError('a power spectral density cannot be negative')
    power = np.cumsum(psd * ring_areas(edges))
    return power / power[-1]


def distribution_difference(cdf: np.ndarray,
                            reference_cdf: np.ndarray) -> np.ndarray:
    """``cdf - reference_cdf`` per bin. With predictions against ground
    truth, a positive value at frequency f says the prediction has more of
    its power below f: it lacks the detail above f."""
    cdf, reference_cdf = np.asarray(cdf), np.asarray(reference_cdf)
    if cdf.shape != reference_cdf.shape:
        raise ValueError('the distributions have different bins: '
                         f'{cdf.shape} and {reference_cdf.shape}')
    return cdf - reference_cdf


class SpectrumAccumulator:
    """Mean of normalised PSDs over many images of any size, on common bins.

    Args:
        edges (np.ndarray): Frequency bin edges (:func:`frequency_bin_edges`).
    """

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = edges
        self.total = np.zeros(len(edges) - 1)
        self.count = 0

    def add(self, psd: Optional[np.ndarray]) -> bool:
        """Adds one image's PSD; None (no such class in it) is skipped.

        Returns:
            bool: Whether it was added.
        """
        if psd is None:
            return False
        if psd.shape != self.total.shape:
            raise ValueError(f'expected {self.total.shape[0]} values, got '
                             f'{psd.shape}')
        self.total += psd
        self.count += 1
        return True

    def mean(self) -> np.ndarray:
        """The mean PSD of the images added (normalised as each is)."""
        if self.count == 0:
            raise ValueError('no image was added to the accumulator')
        return self.total / self.count

    def cumulative(self) -> np.ndarray:
        """The cumulative distribution of the mean PSD."""
        return cumulative_distribution(self.mean(), self.edges)

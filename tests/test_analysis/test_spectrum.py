import numpy as np
import pytest

from mmseg_convlstm.analysis.spectrum import (
    SpectrumAccumulator, bin_centres, class_maps, class_psd,
    cumulative_distribution, distribution_difference, frequency_bin_edges,
    power_spectrum, radial_psd, ring_areas)


def stripes(height, width, period, axis):
    """Binary stripes of ``period`` pixels varying along ``axis``."""
    coordinate = np.indices((height, width))[axis]
    return (coordinate % period < period // 2).astype(np.uint8)


def disc(height, width, radius):
    rows, cols = np.indices((height, width))
    return np.hypot(rows - height / 2, cols - width / 2) < radius


def gaussian_blur(image, sigma):
    offsets = np.arange(-3 * sigma, 3 * sigma + 1)
    kernel = np.exp(-offsets**2 / (2 * sigma**2))
    kernel /= kernel.sum()
    image = image.astype(np.float64)
    for axis in (0, 1):
        image = np.apply_along_axis(
            lambda line: np.convolve(line, kernel, mode='same'), axis, image)
    return image


def bin_of(frequency, edges):
    return int(np.digitize(frequency, edges, right=True)) - 1


@pytest.mark.parametrize('shape,period,axis', [((64, 64), 8, 1),
                                               ((96, 128), 8, 0),
                                               ((120, 200), 10, 1)])
def test_stripes_peak_at_their_frequency(shape, period, axis):
    edges = frequency_bin_edges(50)
    psd = radial_psd(stripes(*shape, period, axis), edges)
    assert np.argmax(psd) == bin_of(1 / period, edges)


def test_constant_map_has_only_dc():
    power = power_spectrum(np.ones((45, 70)))
    assert power[0, 0] == pytest.approx(45 * 70)
    power[0, 0] = 0
    np.testing.assert_allclose(power, 0.0, atol=1e-9)
    # DC is left out of the radial PSD: a constant map has nothing else.
    assert radial_psd(np.ones((45, 70)), frequency_bin_edges(40)) is None


def test_blurred_mask_has_less_high_frequency_power():
    edges = frequency_bin_edges(50)
    sharp = disc(128, 128, 30)
    sharp_psd = radial_psd(sharp, edges)
    blurred_psd = radial_psd(gaussian_blur(sharp, 3), edges)
    high = bin_centres(edges) > 0.15
    assert blurred_psd[high].sum() < 0.1 * sharp_psd[high].sum()
    # More of the blurred map's power lies below every frequency < 0.5.
    difference = distribution_difference(
        cumulative_distribution(blurred_psd, edges),
        cumulative_distribution(sharp_psd, edges))
    assert np.all(difference[:-1] > 0)
    assert difference[-1] == pytest.approx(0.0, abs=1e-12)


def test_power_spectrum_keeps_the_energy():
    rng = np.random.default_rng(0)
    maps = rng.random((3, 20, 30))
    # Parseval: sum |F|^2 / (H W) = sum x^2, summed over the stack.
    assert power_spectrum(maps).sum() == pytest.approx((maps**2).sum())


@pytest.mark.parametrize('shape', [(17, 23), (64, 64), (150, 90)])
def test_cumulative_is_monotone_and_ends_at_one(shape):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, size=shape)
    edges = frequency_bin_edges()
    psd = class_psd(labels, [1, 2], edges)
    assert np.sum(psd * ring_areas(edges)) == pytest.approx(1.0)
    cdf = cumulative_distribution(psd, edges)
    assert np.all(np.diff(cdf) >= 0)
    assert cdf[-1] == pytest.approx(1.0)
    assert cdf[0] > 0


def test_absent_class_gives_no_psd():
    labels = np.zeros((30, 30), np.uint8)
    assert class_psd(labels, [5], frequency_bin_edges()) is None


def test_class_maps_leave_ignored_pixels_out():
    labels = np.array([[0, 1], [255, 1]])
    maps = class_maps(labels, [0, 1], ignore_index=255)
    np.testing.assert_array_equal(maps[0], [[1, 0], [0, 0]])
    np.testing.assert_array_equal(maps[1], [[0, 1], [0, 1]])
    assert not maps[:, 1, 0].any()


def test_accumulator_puts_images_of_any_size_on_common_bins():
    edges = frequency_bin_edges(50)
    accumulator = SpectrumAccumulator(edges)
    # A 16-pixel image has fewer distinct frequencies than there are bins.
    for shape in [(16, 24), (64, 64), (100, 160)]:
        assert accumulator.add(radial_psd(stripes(*shape, 8, 1), edges))
    assert not accumulator.add(None)
    mean = accumulator.mean()
    assert accumulator.count == 3
    assert np.all(np.isfinite(mean))
    assert np.sum(mean * ring_areas(edges)) == pytest.approx(1.0)
    assert np.argmax(mean) == bin_of(1 / 8, edges)


def test_accumulator_mean_of_equal_spectra_is_that_spectrum():
    edges = frequency_bin_edges(30)
    psd = radial_psd(disc(50, 60, 12), edges)
    accumulator = SpectrumAccumulator(edges)
    accumulator.add(psd)
    accumulator.add(psd.copy())
    np.testing.assert_allclose(accumulator.mean(), psd)


def test_empty_accumulator_and_mismatched_bins_are_errors():
    accumulator = SpectrumAccumulator(frequency_bin_edges(10))
    with pytest.raises(ValueError, match='no image'):
        accumulator.mean()
    with pytest.raises(ValueError, match='values'):
        accumulator.add(np.ones(5))
    with pytest.raises(ValueError, match='different bins'):
        distribution_difference(np.ones(3), np.ones(4))

"""ClipSegDataPreProcessor preprocesses every frame of a clip as a single
image and pads the clip's labels with them."""
import pytest
import torch
from mmengine.structures import PixelData
from torch.testing import assert_close

from mmseg.models import SegDataPreProcessor
from mmseg.structures import SegDataSample
from mmseg_convlstm.models import ClipSegDataPreProcessor

SETTINGS = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size=(20, 24),
    seg_pad_val=255)


def clips(num_frames=(3, 3)):
    torch.manual_seed(0)
    inputs = [
        torch.randint(0, 256, (frames, 3, 17, 21), dtype=torch.uint8)
        for frames in num_frames
    ]
    samples = [
        SegDataSample(
            gt_sem_seg=PixelData(data=torch.randint(0, 19, (frames, 17, 21))))
        for frames in num_frames
    ]
    return inputs, samples


def test_frames_are_preprocessed_as_images_and_labels_padded():
    inputs, samples = clips()
    result = ClipSegDataPreProcessor(**SETTINGS)(dict(
        inputs=inputs, data_samples=samples), True)
    assert result['inputs'].shape == (2, 3, 3, 20, 24)
    single = SegDataPreProcessor(**SETTINGS)
    for clip, packed in zip(inputs, result['inputs']):
        frames = single(
            dict(
                inputs=list(clip),
                data_samples=[
                    SegDataSample(
                        gt_sem_seg=PixelData(
                            data=torch.zeros(1, 17, 21).long())) for _ in clip
                ]), True)['inputs']
        assert_close(packed, frames)
    for sample in result['data_samples']:
        labels = sample.gt_sem_seg.data
        assert labels.shape == (3, 20, 24)
        assert (labels[:, 17:] == 255).all() and (labels[:, :, 21:]
                                                  == 255).all()
    assert len(result['data_samples']) == 2


def test_single_images_pass_through():
    inputs, samples = clips()
    images = [clip[0] for clip in inputs]
    image_samples = [
        SegDataSample(gt_sem_seg=PixelData(data=sample.gt_sem_seg.data[:1]))
        for sample in samples
    ]
    result = ClipSegDataPreProcessor(**SETTINGS)(dict(
        inputs=images, data_samples=image_samples), True)
    assert result['inputs'].shape == (2, 3, 20, 24)


def test_clips_of_different_lengths_and_clips_in_testing_are_refused():
    preprocessor = ClipSegDataPreProcessor(**SETTINGS)
    inputs, samples = clips((3, 2))
    with pytest.raises(ValueError, match='one number of frames'):
        preprocessor(dict(inputs=inputs, data_samples=samples), True)
    inputs, samples = clips()
    with pytest.raises(ValueError, match='training only'):
        preprocessor(dict(inputs=inputs, data_samples=samples), False)

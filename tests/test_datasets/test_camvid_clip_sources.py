"""The two sources of CamVid clips for ClipRecurrentEncoderDecoder: real
consecutive train frames (CamVidSequenceDataset with max_frame_gap; no clip
crosses a sequence or a jump; every frame labelled, void ignored) and
pseudo-clips of stills (RandomCameraMotionClip), alone and mixed through
MMEngine's ConcatDataset into batches the clip model's loss takes."""
import os
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.dataset import ConcatDataset, pseudo_collate
from mmengine.registry import init_default_scope
from PIL import Image

from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS
from mmseg_convlstm.datasets import (CamVidSequenceDataset,
                                     LoadClipAnnotations, make_camvid_tree)
from mmseg_convlstm.datasets.camvid_dataset import camvid_frame
from tests.test_datasets.test_camvid_dataset import (REAL_CAMVID,
                                                     needs_real_camvid)
from tests.test_models.test_clip_recurrent_encoder_decoder import \
    build_model

CONTEXT, CROP = 2, (32, 48)
# Frame numbers of the generated train frames: 1 s (30 frames) apart, with
# CamVid-like jumps (270 frames in 0001TP, 1950 in 0016E5).
FRAMES = {
    '0001TP': [930, 960, 990, 1020, 1290, 1320, 1350],
    '0006R0': [930, 960, 990, 1020, 1050, 1080, 1110],
    '0016E5': [930, 960, 2910, 2940, 2970, 3000, 3030],
}
# The clips (last frame: the frames in it) with CONTEXT = 2 and
# max_frame_gap=30, by hand.
EXPECTED_CLIPS = {
    ('0001TP', 990): [930, 960, 990],
    ('0001TP', 1020): [960, 990, 1020],
    ('0001TP', 1350): [1290, 1320, 1350],
    **{
        ('0006R0', last): [last - 60, last - 30, last]
        for last in (990, 1020, 1050, 1080, 1110)
    },
    ('0016E5', 2970): [2910, 2940, 2970],
    ('0016E5', 3000): [2940, 2970, 3000],
    ('0016E5', 3030): [2970, 3000, 3030],
}


def name(sequence, frame):
    prefix = 'f' if 'R' in sequence else ''
    return f'{sequence}_{prefix}{frame:05d}.png'


@pytest.fixture(scope='module')
def camvid_root(tmp_path_factory):
    """A generated CamVid train split whose frames are renamed to
    ``FRAMES``."""
    root = make_camvid_tree(
        str(tmp_path_factory.mktemp('camvid_jumps')),
        dict(train=7),
        image_size=(40, 56),
        sequences=tuple(FRAMES))
    for folder in ('train', 'trainannot'):
        for sequence, frames in FRAMES.items():
            # make_camvid_tree numbers the frames 930, 932, ...
            for index, frame in reversed(list(enumerate(frames))):
                os.rename(
                    osp.join(root, folder, name(sequence, 930 + 2 * index)),
                    osp.join(root, folder, name(sequence, frame)))
    return root


def clips(dataset):
    """{(sequence, last frame): frame numbers of the clip}."""
    result = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        frames = [camvid_frame(path) for path in info['clip_paths']]
        assert [camvid_frame(path)
                for path in info['clip_seg_map_paths']] == frames
        assert frames[-1] == camvid_frame(info['img_path'])
        assert len({sequence for sequence, _ in frames}) == 1
        result[frames[-1]] = [frame for _, frame in frames]
    return result


def real_clips(data_root, max_frame_gap=30, pipeline=()):
    return CamVidSequenceDataset(
        data_root=data_root,
        context_frames=CONTEXT,
        max_frame_gap=max_frame_gap,
        pipeline=list(pipeline))


def test_no_clip_crosses_a_jump_or_a_sequence(camvid_root):
    assert clips(real_clips(camvid_root)) == EXPECTED_CLIPS


def test_without_a_gap_clips_cross_the_jumps(camvid_root):
    crossing = clips(real_clips(camvid_root, max_frame_gap=None))
    assert len(crossing) == 3 * (7 - CONTEXT)
    assert crossing[('0001TP', 1290)] == [990, 1020, 1290]


def test_a_gap_below_the_spacing_leaves_no_clip_and_says_so(camvid_root):
    with pytest.raises(ValueError, match='max_frame_gap=29') as error:
        real_clips(camvid_root, max_frame_gap=29)
    assert 'context_frames=2' in str(error.value)
    assert 'longest run: 1 frames' in str(error.value)
    with pytest.raises(ValueError, match='max_frame_gap'):
        real_clips(camvid_root, max_frame_gap=0)


def test_every_frame_of_a_real_clip_has_its_labels_void_ignored(camvid_root):
    dataset = real_clips(
        camvid_root,
        pipeline=[
            dict(type='LoadStackedClip'),
            dict(type='LoadClipAnnotations'),
            dict(type='PackClipSegInputs')
        ])
    sample = dataset[2]
    info = dataset.get_data_info(2)
    labels = sample['data_samples'].gt_sem_seg.data.numpy()
    assert labels.shape == (CONTEXT + 1, 40, 56)
    for frame_labels, image, label_path, image_path in zip(
            labels, sample['inputs'].numpy(), info['clip_seg_map_paths'],
            info['clip_paths']):
        raw = np.asarray(Image.open(label_path))
        assert (raw == 11).any()
        np.testing.assert_array_equal(frame_labels,
                                      np.where(raw == 11, 255, raw))
        np.testing.assert_array_equal(
            image.transpose(1, 2, 0), mmcv.imread(image_path))


def mixed_sources(camvid_root):
    """Real clips and pseudo-clips of the stills of the same split, cropped
    and flipped alike, in one ConcatDataset."""
    crop_and_pack = [
        dict(type='RandomCrop', crop_size=CROP, cat_max_ratio=0.75),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackClipSegInputs')
    ]
    init_default_scope('mmseg')
    return DATASETS.build(
        dict(
            type='ConcatDataset',
            datasets=[
                dict(
                    type='CamVidSequenceDataset',
                    data_root=camvid_root,
                    context_frames=CONTEXT,
                    max_frame_gap=30,
                    pipeline=[
                        dict(type='LoadStackedClip'),
                        dict(type='LoadClipAnnotations'), *crop_and_pack
                    ]),
                dict(
                    type='CamVidDataset',
                    data_root=camvid_root,
                    pipeline=[
                        dict(type='LoadImageFromFile'),
                        dict(type='StrictLoadAnnotations', num_classes=11),
                        dict(
                            type='RandomCameraMotionClip',
                            context_frames=CONTEXT,
                            scaling_ratio_range=(1.0, 1.1),
                            max_translate_ratio=0.05,
                            max_rotate_degree=2.0), *crop_and_pack
                    ])
            ]))


def test_the_sources_mix_into_clips_of_one_form(camvid_root):
    dataset = mixed_sources(camvid_root)
    assert isinstance(dataset, ConcatDataset)
    assert len(dataset) == len(EXPECTED_CLIPS) + 3 * 7
    for sample in (dataset[0], dataset[len(dataset) - 1]):
        assert sample['inputs'].shape == (CONTEXT + 1, 3, *CROP)
        labels = sample['data_samples'].gt_sem_seg.data
        assert labels.shape == (CONTEXT + 1, *CROP)
        assert set(labels.unique().tolist()) <= set(range(11)) | {255}


@pytest.mark.parametrize('loss_frames', ['all', 'last'])
def test_the_clip_model_trains_on_a_mixed_batch(camvid_root, tmp_path,
                                                loss_frames):
    dataset = mixed_sources(camvid_root)
    batch = pseudo_collate([dataset[0], dataset[len(dataset) - 1]])
    model = build_model(tmp_path, loss_frames=loss_frames)
    data = model.data_preprocessor(batch, True)
    assert data['inputs'].shape[:2] == (2, CONTEXT + 1)
    losses = model.loss(**data)
    frames = range(CONTEXT + 1) if loss_frames == 'all' else [CONTEXT]
    assert sorted(key for key in losses if '_frame' in key) == [
        f'decode.ce_frame{frame}' for frame in frames
    ]
    assert torch.isfinite(losses['decode.loss_ce'])
    losses['decode.loss_ce'].backward()
    assert model.decode_head.cells[0].input_conv.weight.grad.abs().sum() > 0


@needs_real_camvid
def test_real_train_clips_stay_within_their_runs():
    dataset = CamVidSequenceDataset(
        data_root=REAL_CAMVID, context_frames=3, max_frame_gap=40)
    found = clips(dataset)
    # 0001TP, 0006R0 and the three runs of 0016E5 between its jumps.
    assert len(found) == 367 - 5 * 3
    for frames in found.values():
        assert all(0 < later - earlier <= 40
                   for earlier, later in zip(frames, frames[1:]))


@pytest.mark.parametrize('reduce_zero_label', [False, True])
def test_clip_labels_are_mapped_as_load_annotations_maps_them(
        tmp_path, reduce_zero_label):
    path = str(tmp_path / 'labels.png')
    rng = np.random.default_rng(0)
    Image.fromarray(
        rng.choice([0, 1, 2, 5, 11, 255], (6, 7)).astype(np.uint8)).save(path)
    info = dict(
        seg_map_path=path,
        clip_seg_map_paths=[path, path],
        reduce_zero_label=reduce_zero_label,
        label_map={
            11: 255,
            2: 0,
            1: 2
        },
        seg_fields=[])
    expected = LoadAnnotations(reduce_zero_label=reduce_zero_label)(dict(
        info, seg_fields=[]))['gt_seg_map']
    clip = LoadClipAnnotations()(dict(info))['gt_seg_map']
    assert clip.shape == (6, 7, 2) and clip.dtype == np.uint8
    for frame in range(2):
        np.testing.assert_array_equal(clip[:, :, frame], expected)

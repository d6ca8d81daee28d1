"""tools/analysis_tools/video_strip.py on a tiny model and a generated clip:
end to end as a user runs it, and its argument errors in this process
(they come before any model is built)."""
import os
import os.path as osp
import re
import runpy
import sys

import numpy as np
import pytest
from PIL import Image

from mmseg.datasets import CityscapesDataset
from tests.tools_runner import REPO, run_tool
from tests.video_helpers import sequence_folder

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'video_strip.py')
GT_CLASS = 11  # person: a colour the generated frames do not hold


@pytest.fixture(scope='module')
def gt_dir(tiny, tmp_path_factory):
    """Label PNGs of class ``GT_CLASS`` everywhere, named as the frames."""
    folder = tmp_path_factory.mktemp('video_strip_gt')
    for name in os.listdir(sequence_folder(tiny[0])):
        size = Image.open(osp.join(sequence_folder(tiny[0]), name)).size
        Image.new('L', size, GT_CLASS).save(folder / name)
    return folder


def run_in_process(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', [TOOL, *map(str, args)])
    runpy.run_path(TOOL, run_name='__main__')


def test_two_models_and_the_ground_truth_under_strided_frames(
        tiny, gt_dir, tmp_path):
    _, config, checkpoint = tiny
    result = run_tool([
        TOOL,
        sequence_folder(tiny[0]), '--model', 'first', config, checkpoint,
        '--model', 'second', config, checkpoint, '--start', '1',
        '--num-frames', '3', '--stride', '2', '--context', '1', '--gt-dir',
        str(gt_dir), '--work-dir',
        str(tmp_path), '--device', 'cpu', '--cfg-options',
        'video_cfg.steps_per_frame=2'
    ])
    # Each model streams frames 0 (context) to 5 (the last shown).
    assert result.stdout.count('6/6') == 2
    assert 'streaming first' in result.stdout
    assert 'streaming second' in result.stdout
    picture = np.asarray(Image.open(tmp_path / 'video_strip.png'))[..., :3]
    gt_colour = CityscapesDataset.METAINFO['palette'][GT_CLASS]
    gt_share = np.all(picture == gt_colour, axis=-1).mean()
    # One row of the four (frames, ground truth, two models), less margins.
    assert 0.15 < gt_share < 0.25


def test_a_missing_frames_folder_is_named(tiny, tmp_path, monkeypatch):
    missing = tmp_path / 'no_such_clip'
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        run_in_process(monkeypatch, missing, '--model', 'a', *tiny[1:])


@pytest.mark.parametrize(
    'options, message',
    [(['--start', '8'], r'--start 8 is beyond the 8 frames'),
     (['--start', '6', '--num-frames', '3'
       ], r'--num-frames 3 --stride 1 ends at frame 8, beyond the 8 frames'),
     (['--stride', '0'], '--stride must be at least 1')])
def test_frames_beyond_the_clip_are_errors(tiny, monkeypatch, options,
                                           message):
    with pytest.raises(ValueError, match=message):
        run_in_process(monkeypatch, sequence_folder(tiny[0]), '--model', 'a',
                       *tiny[1:], *options)


def test_a_missing_ground_truth_of_a_shown_frame_is_named(
        tiny, gt_dir, tmp_path, monkeypatch):
    partial = tmp_path / 'gt'
    partial.mkdir()
    names = sorted(os.listdir(gt_dir))
    for name in names[:3]:
        (partial / name).write_bytes((gt_dir / name).read_bytes())
    with pytest.raises(
            FileNotFoundError, match=re.escape(str(partial / names[3]))):
        run_in_process(monkeypatch, sequence_folder(tiny[0]), '--model', 'a',
                       *tiny[1:], '--start', '2', '--num-frames', '2',
                       '--gt-dir', partial)


def test_two_models_of_one_name_are_an_error(tiny, monkeypatch):
    with pytest.raises(ValueError, match='--model names must differ'):
        run_in_process(monkeypatch, sequence_folder(tiny[0]), '--model', 'a',
                       *tiny[1:], '--model', 'a', *tiny[1:], '--start', '0')

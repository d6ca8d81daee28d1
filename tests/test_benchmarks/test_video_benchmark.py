"""The video benchmark's rows: mIoU and MACs per frame of each setting."""
import pytest
from mmengine.runner import Runner

from mmseg_convlstm.benchmarks.video_benchmark import (add_frame_macs,
                                                       evaluate_video_settings,
                                                       video_settings)
from mmseg_convlstm.utils.video_macs import feature_macs


def test_a_reset_frame_runs_the_backbone_and_interval_2_halves_its_macs(
        model):
    loader = Runner.build_dataloader(model.cfg.video_test_dataloader)
    settings = video_settings([0, 2], [1], 1, backbone_intervals=[1, 2])
    rows = evaluate_video_settings(model, loader, settings)
    add_frame_macs(model, rows)
    by_setting = {
        (row['mode'], row['context_frames'], row['backbone_interval']): row
        for row in rows
    }
    # One frame from a reset runs the backbone whatever the interval.
    assert by_setting[('video', 0, 2)]['mIoU'] == by_setting[('video', 0,
                                                              1)]['mIoU']
    backbone, _ = feature_macs(model, tuple(rows[0]['input_shape']))
    every_frame = by_setting[('video', 2, 1)]['gmacs_per_frame']
    every_other = by_setting[('video', 2, 2)]['gmacs_per_frame']
    assert every_frame - every_other == pytest.approx(backbone / 2e9, abs=1e-4)

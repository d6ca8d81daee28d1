"""The video benchmark's rows: mIoU and MACs per frame of each setting."""
import pytest
from mmengine.runner import Runner

from mmseg_convlstm.benchmarks.video_benchmark import (add_frame_macs,
                                                       evaluate_video_settings,
                                                       parse_video_rule,
                                                       video_settings)
from mmseg_convlstm.benchmarks.video_macs import feature_macs


def test_a_reset_frame_runs_the_backbone_and_interval_2_halves_its_macs(model):
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


def test_per_position_rows_count_what_their_positions_ran(model):
    """Every position running is the dense carried step, MACs included
    (counted from the exit steps against MMEngine's counter); a threshold
    no position reaches skips every frame after the first."""
    loader = Runner.build_dataloader(model.cfg.video_test_dataloader)
    settings = video_settings(
        [0, 2], [1], 1, position_exits=['skip_change=0', 'skip_change=1e9'])
    rows = evaluate_video_settings(model, loader, settings)
    add_frame_macs(model, rows)
    by_setting = {
        (row['mode'], row['context_frames'], row['position_exit']): row
        for row in rows
    }
    for k in (0, 2):
        dense = by_setting[('video', k, None)]
        everywhere = by_setting[('position', k, 'skip_change=0')]
        assert everywhere['mIoU'] == dense['mIoU']
        assert everywhere['mean_position_steps'] == 1
        assert everywhere['head_gmacs_per_frame'] == pytest.approx(
            dense['head_gmacs_per_frame'], abs=1e-4)
    # After a reset every position runs: the cold start's step.
    cold = by_setting[('static', 0, None)]
    never_from_reset = by_setting[('position', 0, 'skip_change=1e9')]
    assert never_from_reset['mIoU'] == cold['mIoU']
    assert never_from_reset['head_gmacs_per_frame'] == pytest.approx(
        cold['head_gmacs_per_frame'], abs=1e-4)
    never = by_setting[('position', 2, 'skip_change=1e9')]
    assert never['mean_position_steps'] == 0
    assert never['head_gmacs_per_frame'] == 0
    assert never['total_steps'] is None


@pytest.mark.parametrize('rule, message', [
    ('skip_change', 'not key=value'),
    ('skip=0.1', 'not key=value'),
    ('max_steps=two', 'max_steps must be of type int'),
    ('skip_change=-0.5', 'video_cfg.position_exit.skip_change'),
    ('min_steps=2,max_steps=1', 'must not exceed'),
])
def test_bad_video_rules_are_named(rule, message):
    with pytest.raises(ValueError, match=message) as error:
        parse_video_rule(rule)
    assert repr(rule) in str(error.value)

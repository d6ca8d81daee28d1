"""The measured table: a model trained elsewhere is read from its training
log (its last validation, per step and per class), and the summary says
which rows came from a log and how long each model trained."""
import json
import math

import pytest

from mmseg_convlstm.benchmarks.measured_table import (
    Evaluation, ModelRow, evaluation_from_log, markdown_tables,
    position_exit_config, short_names, target_findings)

CLASSES = ('Sky', 'Road', 'Car')


def class_table(values):
    rows = ''.join(
        f'12/04 16:58:32 - mmengine - INFO - |{name:^8}| {iou} | 90.0 |\n'
        for name, iou in zip(CLASSES, values))
    return ('12/04 16:58:32 - mmengine - INFO - per class results:\n'
            '12/04 16:58:32 - mmengine - INFO - \n'
            '+--------+-------+-------+\n|  Class |  IoU  |  Acc  |\n'
            '+--------+-------+-------+\n' + rows.replace(
                '12/04 16:58:32 - mmengine - INFO - ', '') +
            '+--------+-------+-------+\n')


def write_run(work_dir, records, tables):
    run = work_dir / '20261204_165330'
    (run / 'vis_data').mkdir(parents=True)
    (run / 'vis_data' / 'scalars.json').write_text(''.join(
        json.dumps(record) + '\n' for record in records))
    (run / '20261204_165330.log').write_text(''.join(
        class_table(values) for values in tables))


def test_a_baseline_reads_its_last_validation_and_class_table(tmp_path):
    write_run(tmp_path, [
        dict(loss=1.0, step=500),
        dict(mIoU=40.0, step=500),
        dict(loss=0.5, step=1000),
        dict(mIoU=51.25, aAcc=88.0, step=1000)
    ], [(1.0, 2.0, 3.0), (90.81, 0.0, 'nan')])

    evaluation, iteration = evaluation_from_log(str(tmp_path), CLASSES)

    assert iteration == 1000
    assert evaluation.step_miou == [51.25]
    assert evaluation.step_class_iou[0][:2] == [90.81, 0.0]
    assert math.isnan(evaluation.step_class_iou[0][2])


def test_a_recurrent_model_reads_the_miou_after_every_step(tmp_path):
    record = {'mIoU': 50.8, 'step': 1500}
    record.update({f'mIoU@{step}': 40.0 + step for step in range(1, 11)})
    write_run(tmp_path, [record], [(1.0, 2.0, 3.0)])

    evaluation, iteration = evaluation_from_log(str(tmp_path), CLASSES)

    assert iteration == 1500
    assert evaluation.step_miou == [40.0 + step for step in range(1, 11)]
    assert evaluation.step_class_iou[-1] == [1.0, 2.0, 3.0]
    assert len(evaluation.step_class_iou) == 10


def test_a_run_that_never_validated_has_no_evaluation(tmp_path):
    write_run(tmp_path, [dict(loss=1.0, step=25)], [])
    assert evaluation_from_log(str(tmp_path), CLASSES) is None
    assert evaluation_from_log(str(tmp_path / 'absent'), CLASSES) is None


def rows():
    reference = ModelRow('deeplabv3', 'a.py', None, 2000, False, 18e6,
                         [12e9], Evaluation([60.0], [[60.0] * 3], 1.0))
    ours = ModelRow('convlstm', 'b.py', 'iter_1643.pth', 1643, True, 5e6,
                    [4e9, 5e9, 6e9],
                    Evaluation([50.0, 58.0, 59.0], [[50.0] * 3] * 3, 3.0))
    reference.latency = {0: 0.2}
    ours.latency = {1: 0.05, 3: 0.1}
    return [reference, ours]


def test_the_summary_names_the_iterations_and_the_rows_from_logs():
    table = markdown_tables(rows(), CLASSES, (360, 480), 'CPU')
    assert '| deeplabv3 | 2000 (log) |  | 18.00 | 12.00 | 1.000 |' in table
    assert '| convlstm | 1643 | 3 | 5.00 | 6.00 | 0.500 | 100.0 | 0.500 |' \
        ' 59.00 |' in table


def test_the_targets_are_judged_against_deeplabv3():
    findings = target_findings(rows())
    assert findings == [
        'convlstm: best T (3) 59.00 against DeepLabV3 60.00: met',
        'convlstm: best mIoU at <= 0.5x DeepLabV3 GMACs 59.00 at 0.500x: '
        'met',
        'convlstm: step 1 50.00 = 0.847x the best: not met'
    ]


def test_the_plot_names_models_by_what_tells_them_apart():
    names = short_names([
        'mobilenet-v2-d16_deeplabv3_1xb8-2k_camvid-288x384',
        'mobilenet-v2-d16_convlstm-512-256_1xb8-2k_camvid-288x384'
    ])
    assert names == ['deeplabv3', 'convlstm-512-256']
    assert short_names(['a_b', 'a_b']) == ['b', 'b']
    assert short_names(['only_one']) == ['only_one']


def test_a_position_exit_rule_becomes_its_adaptive_exit_config():
    assert position_exit_config('confidence=0.7') == dict(
        per_position=True, confidence=0.7)
    assert position_exit_config('settle_steps=2') == dict(
        per_position=True, settle_steps=2)
    assert position_exit_config('settle_steps=2,min_steps=3') == dict(
        per_position=True, settle_steps=2, min_steps=3)
    for bad in ('confidence', '=0.7', 'confidence=', 'min_steps=2'):
        with pytest.raises(ValueError, match=f'rule {bad!r}'):
            position_exit_config(bad)


def test_counted_macs_are_used_where_the_model_counted_them():
    ours = rows()[1]
    ours.adaptive_exit = Evaluation([55.0], [[0.0] * 3], 2.5)
    ours.position_exits['confidence=0.7'] = Evaluation([58.5], [[0.0] * 3],
                                                       1.4, 4.2e9)
    assert ours.macs_of(ours.adaptive_exit) == 5.5e9  # between steps 2, 3
    assert ours.macs_of(ours.position_exits['confidence=0.7']) == 4.2e9
    assert [name for name, _ in ours.rules()] == [
        'adaptive exit', 'per position, confidence=0.7'
    ]
    table = markdown_tables([ours], CLASSES, (360, 480), 'CPU')
    assert ('| convlstm | per position, confidence=0.7 | 1.40 | 4.20 | '
            '58.50 |') in table
    assert '| convlstm | adaptive exit | 2.50 | 5.50 | 55.00 |' in table

# convlstm_cityscapes.py tested with adaptive exit: every image stops stepping
# (after 2 to 10 steps) once fewer than 1% of its labels change between two
# steps. AdaptiveExitIoUMetric reports the mIoU and the mean steps spent, and
# writes adaptive_exit.json for
# tools/analysis_tools/budget_curve.py --adaptive-json.
_base_ = './convlstm_cityscapes.py'
model = dict(
    test_cfg=dict(
        return_all_steps=False,
        adaptive_exit=dict(min_steps=2, max_steps=10, change_fraction=0.01)))
val_evaluator = dict(type='AdaptiveExitIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# mobilenet-v2-d16_convlstm-256-128_1xb4-500i_camvid-288x384.py at batch 8
# for 2,000 iterations: the GPU recipe of the measured CamVid table
# (docs/en/benchmarks.md#camvid).
_base_ = [
    './mobilenet-v2-d16_convlstm-256-128_1xb4-500i_camvid-288x384.py',
    '../_base_/schedules/schedule_camvid_sgd-001_2k.py'
]
train_dataloader = {{_base_.schedule_2k.train_dataloader}}
param_scheduler = {{_base_.schedule_2k.param_scheduler}}
train_cfg = {{_base_.schedule_2k.train_cfg}}
default_hooks = {{_base_.schedule_2k.default_hooks}}

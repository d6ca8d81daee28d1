# The paper's Cityscapes recipe: batch 16 in total (8 GPUs x 2 images).
_base_ = [
    '_base_/models/convlstm_r101-d16-mg248.py',
    '_base_/datasets/cityscapes_1025x2049.py', '_base_/default_runtime.py',
    '_base_/schedules/schedule_30k_sgd-m095.py'
]
crop_size = (1025, 2049)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=19, hidden_channels=(512, 256, 19)))

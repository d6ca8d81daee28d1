# The paper's PASCAL VOC 2012 recipe: batch 16 in total (4 GPUs x 4 images).
_base_ = [
    '_base_/models/convlstm_r101-d16-mg248.py',
    '_base_/datasets/voc12aug_513x513.py', '_base_/default_runtime.py',
    '_base_/schedules/schedule_30k_sgd-m095.py'
]
crop_size = (513, 513)
model = dict(data_preprocessor=dict(size=crop_size))

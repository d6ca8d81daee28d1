# The demo: the recurrent canvas model with a ResNetV1c-18 trained from
# scratch on a small generated VOC-layout dataset (demo/train_demo.py makes
# it), on CPU in about ten minutes. Same architecture as the paper's model,
# smaller backbone and head, Adam instead of SGD so that it learns quickly
# without ImageNet weights.
_base_ = [
    '../_base_/models/convlstm_r101-d16-mg248.py',
    '../_base_/datasets/voc12aug_513x513.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30k_sgd-m095.py'
]
data_root = 'work_dirs/demo/data/VOCdevkit/VOC2012'
crop_size = (97, 97)
num_steps = 5
iterations = 400
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512, hidden_channels=(128, 64, 21), num_steps=num_steps),
    test_cfg=dict(num_steps=num_steps))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='StrictLoadAnnotations', num_classes=21),
    dict(
        type='RandomResize',
        scale=(200, 160),
        ratio_range=(0.75, 1.25),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
optim_wrapper = dict(
    _delete_=True,
    type='NonFiniteLossOptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=iterations,
        by_epoch=False)
]
train_cfg = dict(max_iters=iterations, val_interval=iterations)
default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=iterations, max_keep_ckpts=1, save_best=None))
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=4)

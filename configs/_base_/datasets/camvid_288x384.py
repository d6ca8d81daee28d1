# CamVid in SegNet's 11-class layout (480x360 frames, void ignored), trained
# on 288x384 crops of rescaled frames, tested on the whole 360x480 frames.
# data_root: a git-ignored symlink data/CamVid -> ../shared/camvid/CamVid, or
# --cfg-options train_dataloader.dataset.data_root=... (docs/en/user_guides/
# camvid.md).
dataset_type = 'CamVidDataset'
data_root = 'data/CamVid'
crop_size = (288, 384)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='StrictLoadAnnotations', num_classes=11),
    dict(
        type='RandomResize',
        scale=(480, 360),
        ratio_range=(0.75, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='StrictLoadAnnotations', num_classes=11),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='train', seg_map_path='trainannot'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='DeterministicIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# Cityscapes fine annotations at native resolution: 1025x2049 crops (32k+1),
# tested on the whole 1024x2048 image.
dataset_type = 'CityscapesDataset'
data_root = 'data/cityscapes/'
crop_size = (1025, 2049)
# StrictLoadAnnotations stops on a label map of the wrong size or with values
# that are neither a class id nor 255, naming the file.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='StrictLoadAnnotations', num_classes=19),
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='StrictLoadAnnotations', num_classes=19),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='AnytimeIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

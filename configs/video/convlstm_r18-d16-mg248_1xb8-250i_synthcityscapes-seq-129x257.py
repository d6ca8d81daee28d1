# Video segmentation with the recurrent state carried across frames: the
# recurrent canvas model with a ResNetV1c-18 trained from scratch on the
# annotated frames of a small generated Cityscapes-layout dataset (moving
# textured shapes, with leftImg8bit_sequence clips), on CPU in minutes.
# tools/test_video.py evaluates it on clips of video_test_dataloader;
# tools/video_demo.py and RecurrentVideoInferencer read video_cfg and
# test_pipeline. Generate the data with make_cityscapes_tree(
#   'data/synthcityscapes_seq', dict(train=200, val=40),
#   image_size=(129, 257), sequence_length=8)
# from mmseg_convlstm.datasets (the command is in docs/en/benchmarks.md).
_base_ = [
    '../_base_/models/convlstm_r101-d16-mg248.py',
    '../_base_/datasets/cityscapes_1025x2049.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_30k_sgd-m095.py'
]
data_root = 'data/synthcityscapes_seq'
crop_size = (129, 257)
num_steps = 5
iterations = 250
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512,
        num_classes=19,
        hidden_channels=(128, 64, 19),
        num_steps=num_steps),
    test_cfg=dict(num_steps=num_steps))
# Streaming inference: recurrent steps per frame from the state of the
# previous frame, factor of the carried canvas, relative feature change that
# counts as a scene cut (None: never reset).
video_cfg = dict(steps_per_frame=1, canvas_decay=1.0, scene_cut_threshold=None)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='StrictLoadAnnotations', num_classes=19),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
# The generated frames have the network's input size: no resizing.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='StrictLoadAnnotations', num_classes=19),
    dict(type='PackSegInputs')
]
# Each annotated frame with the context_frames frames before it, loaded and
# transformed alike; tools/test_video.py sets context_frames to the largest
# number it evaluates.
video_test_pipeline = [
    dict(type='LoadStackedClip'),
    dict(type='LoadAnnotations'),
    dict(type='PackClipSegInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
video_test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CityscapesSequenceDataset',
        data_root=data_root,
        context_frames=4,
        data_prefix=dict(
            img_path='leftImg8bit/val',
            seg_map_path='gtFine/val',
            sequence_path='leftImg8bit_sequence/val'),
        pipeline=video_test_pipeline))
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
auto_scale_lr = dict(base_batch_size=8)

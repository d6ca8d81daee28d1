# Training through frames on CamVid: the still context model with the initial
# canvas (configs/camvid/mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_
# 1xb4-500i_camvid-288x384.py), loaded from its checkpoint (load_from) and
# fine-tuned on 4-frame clips with the state carried from frame to frame (1
# recurrent step per frame, as RecurrentVideoInferencer runs it), the loss on
# every frame. Two clip sources, mixed in proportion to their sizes: the real
# train sequences (labelled frames 1 s apart, no clip across a jump) and
# pseudo-clips that a smooth camera motion makes of one still
# (docs/en/user_guides/video.md). The backbone, the ASPP context and the
# auxiliary head keep their still-image weights and statistics
# (freeze_features): only the recurrence learns to keep its canvas up to date,
# and batches of 2 clips do not disturb the norms. Each new frame's canvas
# starts as a blend of the carried canvas and the frame's own initial canvas
# (canvas_decay; video_cfg streams alike).
_base_ = [
    '../camvid/mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb4-500i_camvid-288x384.py'
]
load_from = ('work_dirs/camvid500/mobilenet-v2-d16_convlstm-aspp256-256-128-'
             'initcanvas_1xb4-500i_camvid-288x384/iter_500.pth')
clip_frames = 4
canvas_decay = 0.5
iterations = 300
model = dict(
    type='ClipRecurrentEncoderDecoder',
    data_preprocessor=dict(type='ClipSegDataPreProcessor'),
    train_cfg=dict(
        steps_per_frame=1,
        canvas_decay=canvas_decay,
        loss_frames='all',
        freeze_features=True))
video_cfg = dict(canvas_decay=canvas_decay)
clip_tail = [
    dict(
        type='RandomCrop', crop_size={{_base_.crop_size}},
        cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackClipSegInputs')
]
real_clips = dict(
    type='CamVidSequenceDataset',
    data_root={{_base_.data_root}},
    context_frames=clip_frames - 1,
    max_frame_gap=40,
    data_prefix=dict(img_path='train', seg_map_path='trainannot'),
    pipeline=[
        dict(type='LoadStackedClip'),
        dict(type='LoadClipAnnotations'),
        dict(
            type='RandomResize',
            scale=(480, 360),
            ratio_range=(0.75, 1.5),
            keep_ratio=True)
    ] + clip_tail)
pseudo_clips = dict(
    type='CamVidDataset',
    data_root={{_base_.data_root}},
    data_prefix=dict(img_path='train', seg_map_path='trainannot'),
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='StrictLoadAnnotations', num_classes=11),
        dict(type='PhotoMetricDistortion'),
        dict(
            type='RandomResize',
            scale=(480, 360),
            ratio_range=(0.75, 1.5),
            keep_ratio=True),
        dict(type='RandomCameraMotionClip', context_frames=clip_frames - 1)
    ] + clip_tail)
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[real_clips, pseudo_clips]))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
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
default_hooks = dict(checkpoint=dict(interval=iterations))

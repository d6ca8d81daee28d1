# Training through frames: the small video model of
# convlstm_r18-d16-mg248_1xb8-250i_synthcityscapes-seq-129x257.py, initialised
# from its still-image checkpoint (load_from) and fine-tuned on clips of 8
# frames (K = 7 context frames: the whole generated sequence), with the state
# carried from frame to frame (1 recurrent step per frame, as
# RecurrentVideoInferencer runs it by default), backpropagation through the
# clip and the loss on every frame (gtFine_sequence holds every frame's
# labels). It validates on the annotated still frames; tools/test_video.py
# evaluates it on clips.
_base_ = ['./convlstm_r18-d16-mg248_1xb8-250i_synthcityscapes-seq-129x257.py']
load_from = 'work_dirs/video_r18/iter_250.pth'
clip_frames = 8
iterations = 300
model = dict(
    type='ClipRecurrentEncoderDecoder',
    data_preprocessor=dict(type='ClipSegDataPreProcessor'),
    # The loss on every frame ('last': the last frame only, as Cityscapes
    # labels it). The backbone, already trained on stills, learns from the
    # last frame only: context_backbone_grad=False cuts the activations saved
    # for an 8-frame clip of batch 2 from 390 to 110 MiB and skips 7 of the
    # 8 backbone backward passes (docs/en/benchmarks.md); the recurrence
    # still learns from every frame.
    # The carried canvas is scaled by 0.8 before each frame (as video_cfg
    # below), so that it stays bounded and the objects' old positions fade.
    train_cfg=dict(
        steps_per_frame=1,
        canvas_decay=0.8,
        loss_frames='all',
        context_backbone_grad=False))
video_cfg = dict(
    steps_per_frame=1,
    canvas_decay=0.8,
    scene_cut_threshold=None,
    backbone_interval=1)
clip_train_pipeline = [
    dict(type='LoadStackedClip'),
    dict(type='LoadClipAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackClipSegInputs')
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        _delete_=True,
        type='CityscapesSequenceDataset',
        data_root={{_base_.data_root}},
        context_frames=clip_frames - 1,
        data_prefix=dict(
            img_path='leftImg8bit/train',
            seg_map_path='gtFine/train',
            sequence_path='leftImg8bit_sequence/train',
            sequence_seg_map_path='gtFine_sequence/train'),
        pipeline=clip_train_pipeline))
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
default_hooks = dict(
    checkpoint=dict(interval=iterations, max_keep_ckpts=1, save_best=None))
auto_scale_lr = dict(base_batch_size=2)

# The recurrent canvas head with the paper's widths (512, 256, 11) on the
# shared MobileNetV2 output-stride-16 backbone, 10 steps, trained on CamVid
# with the same crop, augmentation, batch and schedule as MMSeg's baselines.
# val_evaluator reports mIoU after every step.
_base_ = [
    '../_base_/models/convlstm_mobilenet-v2-d16.py',
    '../_base_/datasets/camvid_288x384.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_camvid_sgd-001.py'
]
model = dict(data_preprocessor=dict(size={{_base_.crop_size}}))
val_evaluator = dict(type='AnytimeIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
# Video: the val split is one 15 fps clip labelled on every frame.
# tools/test_video.py streams each frame with the context_frames frames
# before it (CamVidSequenceDataset); tools/video_demo.py reads video_cfg.
video_cfg = dict(steps_per_frame=1, canvas_decay=1.0, scene_cut_threshold=None)
video_test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CamVidSequenceDataset',
        data_root={{_base_.data_root}},
        context_frames=4,
        data_prefix=dict(img_path='val', seg_map_path='valannot'),
        pipeline=[
            dict(type='LoadStackedClip'),
            dict(type='LoadAnnotations'),
            dict(type='PackClipSegInputs')
        ]))

# MMSeg's PSPNet (PPM head, its code and config unchanged) on the shared
# MobileNetV2 output-stride-16 backbone, trained on CamVid with the same crop,
# augmentation, batch and schedule as our recurrent head.
_base_ = [
    'mmseg::_base_/models/pspnet_r50-d8.py',
    '../_base_/models/mobilenet-v2-d16.py',
    '../_base_/datasets/camvid_288x384.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_camvid_sgd-001.py'
]
model = dict(
    data_preprocessor=dict(size={{_base_.crop_size}}),
    pretrained='mmcls://mobilenet_v2',
    backbone={{_base_.mobilenet_v2_d16}},
    decode_head=dict(in_channels=320, num_classes=11),
    auxiliary_head=dict(in_channels=96, num_classes=11))

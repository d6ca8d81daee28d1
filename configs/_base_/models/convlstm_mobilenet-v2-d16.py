# The recurrent canvas head on MobileNetV2 (output stride 16): a stack of 1x1
# ConvLSTMs (512, 256, 11) reading the last stage (320 channels), in place of
# the ASPP head of MMSeg's DeepLabV3 model base, whose data preprocessor and
# FCN auxiliary head on stage 5 (as MMSeg's MobileNetV2 baselines have) it
# keeps.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py', './mobilenet-v2-d16.py'
]
model = dict(
    type='RecurrentEncoderDecoder',
    pretrained='mmcls://mobilenet_v2',
    backbone={{_base_.mobilenet_v2_d16}},
    decode_head=dict(
        _delete_=True,
        type='ConvLSTMCanvasHead',
        in_channels=320,
        in_index=3,
        hidden_channels=(512, 256, 11),
        kernel_size=1,
        forget_bias=1.0,
        num_steps=10,
        num_classes=11,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(in_channels=96, num_classes=11),
    test_cfg=dict(num_steps=10, return_all_steps=True))

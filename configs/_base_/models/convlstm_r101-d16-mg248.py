# Dilated ResNetV1c-101 (output stride 16, block4 units dilated 2, 4, 8) under
# a stack of 1x1 ConvLSTMs (512, 256, num_classes) that paints on a canvas.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='RecurrentEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        num_stages=4,
        out_indices=(3, ),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        # MMSeg's multi_grid gives the units' absolute dilations.
        multi_grid=(2, 4, 8),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='ConvLSTMCanvasHead',
        in_channels=2048,
        in_index=0,
        hidden_channels=(512, 256, 21),
        kernel_size=1,
        forget_bias=1.0,
        num_steps=10,
        num_classes=21,
        # Crops of 32k+1 pixels align with the stride-16 grid at the corners.
        align_corners=True,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole', num_steps=10, return_all_steps=True))

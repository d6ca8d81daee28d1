# The backbone every CamVid model shares: MMSeg's MobileNetV2 (width 1.0) from
# ImageNet, output stride 16 (the last two stages dilated 2 instead of
# strided), as MMSeg's configs/mobilenet_v2 set it at output stride 8.
# pretrained: MMSeg's mmcls://mobilenet_v2; on this project's machines point
# it at the local copy with --cfg-options
# model.pretrained=../shared/weights/mobilenet_v2_imagenet_mmseg.pth.
mobilenet_v2_d16 = dict(
    _delete_=True,
    type='MobileNetV2',
    widen_factor=1.,
    strides=(1, 2, 2, 2, 1, 1, 1),
    dilations=(1, 1, 1, 1, 1, 2, 2),
    out_indices=(1, 2, 4, 6),
    norm_cfg=dict(type='SyncBN', requires_grad=True))

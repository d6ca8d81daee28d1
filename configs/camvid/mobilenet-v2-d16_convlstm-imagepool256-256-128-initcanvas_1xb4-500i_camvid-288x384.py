# Ablation of the context module's kind: the initial-canvas context head with
# image pooling alone (ASPP's 1x1 and image-pooling branches, no dilated 3x3
# branches, fused by its 3x3 bottleneck) in place of the whole ASPP.
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb4-500i_camvid-288x384.py'
]
model = dict(decode_head=dict(context_cfg=dict(dilations=(1, ))))

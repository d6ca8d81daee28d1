# Ablation of the context module's width: the initial-canvas context head
# with 128-channel ASPP blocks (half mobilenet-v2-d16_convlstm-aspp256-...).
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb4-500i_camvid-288x384.py'
]
model = dict(decode_head=dict(context_cfg=dict(channels=128)))

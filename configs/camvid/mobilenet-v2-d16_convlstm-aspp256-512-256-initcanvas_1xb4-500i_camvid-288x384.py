# Ablation of the stack's widths: the initial-canvas context head with the
# paper's cells (512, 256, 11) in place of (256, 128, 11).
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb4-500i_camvid-288x384.py'
]
model = dict(decode_head=dict(hidden_channels=(512, 256, 11)))

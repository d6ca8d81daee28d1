# Ablation of what the bottom cell reads: the initial-canvas context head
# whose recurrence (and initial canvas) read the ASPP context alone
# (concat_input=False) instead of the context beside the raw features.
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb4-500i_camvid-288x384.py'
]
model = dict(decode_head=dict(context_cfg=dict(concat_input=False)))

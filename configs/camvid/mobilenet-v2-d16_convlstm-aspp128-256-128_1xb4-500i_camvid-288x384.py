# The context head of mobilenet-v2-d16_convlstm-aspp256-256-128 with a
# narrower ASPP module (128 channels): about a third of its MACs.
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128_1xb4-500i_camvid-288x384.py'
]
model = dict(decode_head=dict(context_cfg=dict(channels=128)))

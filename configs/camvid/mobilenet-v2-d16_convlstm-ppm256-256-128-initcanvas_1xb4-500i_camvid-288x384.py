# Ablation of the context module's kind: the initial-canvas context head with
# MMSeg's pyramid pooling (PSPNet's PPM, pool scales 1/2/3/6, 256 channels,
# fused by a 3x3 bottleneck) in place of its ASPP blocks; still computed once
# per image, beside the raw features.
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb4-500i_camvid-288x384.py'
]
model = dict(
    decode_head=dict(
        context_cfg=dict(
            _delete_=True,
            type='PPMContext',
            channels=256,
            pool_scales=(1, 2, 3, 6),
            concat_input=True,
            norm_cfg=dict(type='SyncBN', requires_grad=True))))

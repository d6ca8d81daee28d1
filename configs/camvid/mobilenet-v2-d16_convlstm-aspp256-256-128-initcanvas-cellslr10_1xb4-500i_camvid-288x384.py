# Ablation of the cells' learning rate: the initial-canvas context head with
# its ConvLSTM cells (Glorot-initialised from scratch) at 10x the learning
# rate of the rest (the ImageNet backbone, the context module, the canvas
# classifier).
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb4-500i_camvid-288x384.py'
]
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'decode_head.cells': dict(lr_mult=10.)}))

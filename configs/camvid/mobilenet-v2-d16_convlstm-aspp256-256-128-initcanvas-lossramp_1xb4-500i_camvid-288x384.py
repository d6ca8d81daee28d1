# Ablation of the per-step loss weights: the initial-canvas context head with
# the loss on step t weighted t / 55 (growing toward the last of the 10
# steps, summing to 1) instead of 1 / 10 each.
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb4-500i_camvid-288x384.py'
]
model = dict(
    decode_head=dict(
        step_loss_weights=(1 / 55, 2 / 55, 3 / 55, 4 / 55, 5 / 55, 6 / 55,
                           7 / 55, 8 / 55, 9 / 55, 10 / 55)))

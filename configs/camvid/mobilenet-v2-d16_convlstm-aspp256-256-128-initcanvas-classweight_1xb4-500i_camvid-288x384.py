# Ablation of class imbalance: the initial-canvas context head trained with
# SegNet's median-frequency class weights on every step's loss (on the fast
# path) and on the auxiliary loss, exactly as mobilenet-v2-d16_deeplabv3-
# classweight_...
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb4-500i_camvid-288x384.py', '../_base_/losses/segnet_class_weight.py'
]
model = {{_base_.segnet_class_weighted_losses}}

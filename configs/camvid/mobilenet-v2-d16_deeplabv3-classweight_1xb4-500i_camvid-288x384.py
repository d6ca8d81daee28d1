# MMSeg's DeepLabV3 on CamVid trained with SegNet's median-frequency class
# weights on its decode and auxiliary losses, exactly as the class-weighted
# recurrent head (mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas-
# classweight_...).
_base_ = [
    './mobilenet-v2-d16_deeplabv3_1xb4-500i_camvid-288x384.py',
    '../_base_/losses/segnet_class_weight.py'
]
model = {{_base_.segnet_class_weighted_losses}}

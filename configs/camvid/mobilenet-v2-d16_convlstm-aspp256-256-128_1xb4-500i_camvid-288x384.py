# The recurrent canvas head (256, 128, 11) with spatial context computed once
# per image: MMSeg's ASPP blocks (1x1, 3x3 at dilations 6/12/18, image
# pooling, a 3x3 fusion; 256 channels) run on the backbone features before the
# steps, and the bottom cell reads their output beside the raw features. Every
# step stays a 1x1 update. Same backbone, crop, augmentation, batch and
# schedule as the other CamVid models.
_base_ = ['./mobilenet-v2-d16_convlstm-256-128_1xb4-500i_camvid-288x384.py']
model = dict(
    decode_head=dict(
        context_cfg=dict(
            type='ASPPContext',
            channels=256,
            dilations=(1, 6, 12, 18),
            image_pool=True,
            concat_input=True,
            norm_cfg=dict(type='SyncBN', requires_grad=True))))

# Ablation: the recurrent head with the paper's widths without the FCN
# auxiliary head that MMSeg's baselines (and our other CamVid configs) train
# with, as the first CamVid trial ran it.
_base_ = ['./mobilenet-v2-d16_convlstm-512-256_1xb8-2k_camvid-288x384.py']
model = dict(auxiliary_head=None)

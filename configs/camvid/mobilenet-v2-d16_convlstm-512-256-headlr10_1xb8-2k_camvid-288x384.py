# Ablation: the recurrent head with the paper's widths, its cells trained at
# 10x the backbone's learning rate (Glorot-initialised from scratch, unlike
# the ImageNet backbone).
_base_ = ['./mobilenet-v2-d16_convlstm-512-256_1xb8-2k_camvid-288x384.py']
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(decode_head=dict(lr_mult=10.))))

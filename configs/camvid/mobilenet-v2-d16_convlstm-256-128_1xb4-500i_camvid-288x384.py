# The recurrent canvas head with a narrower stack (256, 128, 11): the same
# model and recipe as the paper's widths, at about a third of the head's MACs.
_base_ = ['./mobilenet-v2-d16_convlstm-512-256_1xb4-500i_camvid-288x384.py']
model = dict(decode_head=dict(hidden_channels=(256, 128, 11)))

# The context head of mobilenet-v2-d16_convlstm-aspp256-256-128 whose canvas
# starts from a 1x1 classifier of the context (computed once per image, as
# RAFT starts its recurrent state from a context network) instead of zeros:
# step 1 reads the context's labels, later steps refine them pointwise.
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128_1xb4-500i_camvid-288x384.py'
]
model = dict(decode_head=dict(init_canvas=True))

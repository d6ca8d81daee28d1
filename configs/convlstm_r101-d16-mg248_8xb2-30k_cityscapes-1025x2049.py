_base_ = './convlstm_cityscapes.py'

_base_ = './convlstm_voc.py'

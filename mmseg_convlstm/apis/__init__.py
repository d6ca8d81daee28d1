"""What a user calls to segment images and video with a recurrent model."""
from .recurrent_video_inferencer import (RecurrentVideoInferencer,
                                         VideoFramePrediction)
from .step_inference import (dataset_meta, init_step_model,
                             predict_dataset_item, predict_step_labels)
from .video_demo import carried_labels, segment_video
from .video_frame_reader import VideoFrameReader

__all__ = [
    'RecurrentVideoInferencer', 'VideoFramePrediction', 'VideoFrameReader',
    'carried_labels', 'dataset_meta', 'init_step_model',
    'predict_dataset_item', 'predict_step_labels', 'segment_video'
]

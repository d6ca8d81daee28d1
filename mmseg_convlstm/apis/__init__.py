from .recurrent_video_inferencer import (RecurrentVideoInferencer,
                                         VideoFramePrediction)
from .video_benchmark import (evaluate_video_settings, run_video_benchmark,
                              video_settings)

__all__ = [
    'RecurrentVideoInferencer', 'VideoFramePrediction',
    'evaluate_video_settings', 'run_video_benchmark', 'video_settings'
]

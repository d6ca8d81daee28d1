from .load_clip_annotations import LoadClipAnnotations
from .load_stacked_clip import LoadStackedClip
from .pack_clip_seg_inputs import PackClipSegInputs
from .random_camera_motion_clip import RandomCameraMotionClip
from .strict_load_annotations import StrictLoadAnnotations

__all__ = [
    'LoadClipAnnotations', 'LoadStackedClip', 'PackClipSegInputs',
    'RandomCameraMotionClip', 'StrictLoadAnnotations'
]

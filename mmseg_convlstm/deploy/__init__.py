"""Deployment of the recurrent model to ONNX Runtime and OpenVINO: a few
small graphs with the state explicit, and a host loop that runs them with
the project's own step policies, chosen at run time."""
from .deployed_segmentor import DeployedSegmentor
from .deployed_test import evaluate_deployed
from .deployed_video import DeployedVideoInferencer
from .export import export_model
from .manifest import DeployManifest

__all__ = [
    'DeployManifest', 'DeployedSegmentor', 'DeployedVideoInferencer',
    'evaluate_deployed', 'export_model'
]

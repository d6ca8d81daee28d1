"""Every exported graph computes what the PyTorch model's methods compute,
on both backends, at sizes other than the one traced."""
import onnx
import pytest
import torch
from torch.testing import assert_close

from mmseg_convlstm.deploy.graph_modules import (FINALIZE, PROJECT_ROWS,
                                                 PROLOGUE, STEP, STEP_COLD,
                                                 STEP_ROWS)
from mmseg_convlstm.models.exits.position_exit import to_rows
from mmseg_convlstm.models.layers import RecurrentState
from .conftest import BACKENDS, deployed, graph_file

TOLERANCE = dict(rtol=1e-3, atol=1e-5)


def random_state(head, like):
    torch.manual_seed(0)
    return [
        torch.randn_like(tensor)
        for tensor in head.dense_state(like).tensors()
    ]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@torch.no_grad()
def test_the_prologue_is_the_backbone_context_projection_and_canvas(
        deployment, backend):
    image = torch.randn(3, 3, 45, 71)
    model, head = deployment.model, deployment.model.decode_head
    features = model.head_features(image)
    expected = [features, head.bottom_projection(features)]
    if head.canvas_classifier is not None:
        expected.append(head.cold_state(features).canvas)
    graphs = deployed(deployment, backend).graphs
    for output, reference in zip(graphs[PROLOGUE]([image]), expected):
        assert_close(output, reference, **TOLERANCE)
    rows = to_rows(features)
    assert_close(graphs[PROJECT_ROWS]([rows]),
                 [to_rows(tensor) for tensor in expected[1:]], **TOLERANCE)


@torch.no_grad()
def test_the_step_graphs_are_the_heads_step(deployment, backend):
    head = deployment.model.decode_head
    image = torch.randn(2, 3, 49, 81)
    features = deployment.model.head_features(image)
    projection = head.bottom_projection(features)
    state = head.step(None, projection, head.cold_state(features))
    graphs = deployed(deployment, backend).graphs
    canvas = [] if head.canvas_classifier is None else [
        head.cold_state(features).canvas
    ]
    assert_close(graphs[STEP_COLD]([projection] + canvas), state.tensors(),
                 **TOLERANCE)
    start = random_state(head, features)
    expected = head.step(None, projection,
                         RecurrentState.from_tensors(start)).tensors()
    assert_close(graphs[STEP]([projection] + start), expected, **TOLERANCE)
    row_state = [to_rows(tensor) for tensor in start]
    assert_close(graphs[STEP_ROWS]([to_rows(projection)] + row_state),
                 [to_rows(tensor) for tensor in expected], **TOLERANCE)


@torch.no_grad()
def test_finalize_upsamples_the_canvas_to_the_image_and_takes_the_argmax(
        deployment, backend):
    head = deployment.model.decode_head
    canvas = torch.randn(2, head.out_channels, 4, 6)
    image = torch.zeros(2, 3, 53, 87)
    expected = head.predict_by_feat(canvas,
                                    [dict(img_shape=(53, 87))]).argmax(1)
    labels = deployed(deployment, backend).graphs[FINALIZE]([canvas, image])
    assert torch.equal(labels[0], expected)


def conv_count(path):
    return sum(node.op_type == 'Conv' for node in onnx.load(path).graph.node)


def test_the_cold_start_step_skips_the_recurrent_convolutions(deployment):
    cells = len(deployment.model.decode_head.cells)
    # The bottom cell's input projection is given; every cell but the
    # bottom one projects its input, and a warm step also projects h.
    assert conv_count(graph_file(deployment, STEP)) == 2 * cells - 1
    assert conv_count(graph_file(deployment, STEP_COLD)) == cells - 1


def test_the_exported_graphs_take_any_batch_and_size(deployment):
    for name in (PROLOGUE, STEP, STEP_COLD, FINALIZE):
        for value in onnx.load(graph_file(deployment, name)).graph.input:
            dims = value.type.tensor_type.shape.dim
            assert all(dims[axis].dim_param for axis in (0, 2, 3)), name

import pytest
import torch
import torch.nn.functional as F

from mmseg_convlstm.models import ConvLSTMCell


def reference_step(x, h, c, w_x, b, w_h, forget_bias):
    """Equations (1)-(6) written out gate by gate, from the raw weights."""
    pad = w_x.shape[-1] // 2
    hidden = w_h.shape[1]

    def gate(index):
        rows = slice(index * hidden, (index + 1) * hidden)
        return (F.conv2d(x, w_x[rows], b[rows], padding=pad) +
                F.conv2d(h, w_h[rows], padding=pad))

    i = torch.sigmoid(gate(0))
    f = torch.sigmoid(gate(1) + forget_bias)
    c_in = torch.tanh(gate(2))
    o = torch.sigmoid(gate(3))
    c_new = f * c + i * c_in
    return o * torch.tanh(c_new), c_new


def randomise(cell):
    torch.manual_seed(1)
    for parameter in cell.parameters():
        torch.nn.init.normal_(parameter, std=0.5)


@pytest.mark.parametrize('kernel_size', [1, 3])
@pytest.mark.parametrize('forget_bias', [0.0, 1.0])
def test_cell_matches_the_equations_from_a_given_state(kernel_size,
                                                       forget_bias):
    cell = ConvLSTMCell(5, 4, kernel_size, forget_bias).eval()
    randomise(cell)
    x = torch.randn(2, 5, 7, 9)
    h, c = torch.randn(2, 4, 7, 9), torch.randn(2, 4, 7, 9)

    h_new, c_new = cell(x, (h, c))
    h_ref, c_ref = reference_step(x, h, c, cell.input_conv.weight,
                                  cell.input_conv.bias,
                                  cell.hidden_conv.weight, forget_bias)

    assert h_new.shape == (2, 4, 7, 9)
    torch.testing.assert_close(h_new, h_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(c_new, c_ref, rtol=1e-5, atol=1e-6)


def test_forget_bias_changes_how_much_of_the_old_cell_is_kept():
    cell_a = ConvLSTMCell(3, 2, forget_bias=0.0).eval()
    randomise(cell_a)
    cell_b = ConvLSTMCell(3, 2, forget_bias=5.0).eval()
    cell_b.load_state_dict(cell_a.state_dict())
    x = torch.randn(1, 3, 4, 4)
    state = (torch.zeros(1, 2, 4, 4), torch.ones(1, 2, 4, 4))

    c_a = cell_a(x, state)[1]
    c_b = cell_b(x, state)[1]

    # f -> sigmoid(. + 5) ~ 1 keeps nearly all of c_prev = 1.
    assert (c_b - c_a).min() > 0


@pytest.mark.parametrize('training', [False, True])
def test_no_state_means_zero_state(training):
    cell = ConvLSTMCell(3, 2, kernel_size=3).train(training)
    randomise(cell)
    x = torch.randn(1, 3, 6, 6)
    zeros = (torch.zeros(1, 2, 6, 6), torch.zeros(1, 2, 6, 6))

    for expected, actual in zip(cell(x, zeros), cell(x)):
        torch.testing.assert_close(actual, expected)


def test_even_kernel_is_refused():
    with pytest.raises(ValueError, match='odd'):
        ConvLSTMCell(3, 2, kernel_size=2)


@pytest.mark.parametrize('kernel_size', [1, 3])
def test_dense_step_matches_the_equations_and_the_step_from_zeros(kernel_size):
    cell = ConvLSTMCell(5, 4, kernel_size, forget_bias=1.0).eval()
    randomise(cell)
    x = torch.randn(2, 5, 7, 9)
    h, c = torch.randn(2, 4, 7, 9), torch.randn(2, 4, 7, 9)
    projection = cell.project_input(x)

    h_ref, c_ref = reference_step(x, h, c, cell.input_conv.weight,
                                  cell.input_conv.bias,
                                  cell.hidden_conv.weight, 1.0)
    h_new, c_new = cell.step(projection, (h, c))
    torch.testing.assert_close(h_new, h_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(c_new, c_ref, rtol=1e-5, atol=1e-6)
    zeros = (torch.zeros_like(h), torch.zeros_like(c))
    for dense, reference in zip(
            cell.step(projection, zeros), cell.step(projection)):
        assert torch.equal(dense, reference)

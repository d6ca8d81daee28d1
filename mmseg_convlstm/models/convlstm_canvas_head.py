from functools import partial
from itertools import islice
from typing import (Callable, Iterator, List, NamedTuple, Optional, Sequence,
                    Tuple, Union)

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from .convlstm_cell import (ConvLSTMCell, LSTMState, lstm_pointwise,
                            state_dtype)
from .step_losses import (fast_step_losses, step_loss_fallback,
                          weighted_loss_sum)
from .time_budget import check_num_steps


class RecurrentState(NamedTuple):
    """What the recurrence carries from one step (or video frame) to the
    next: the ``(h, c)`` of every cell and the canvas."""
    lstm: List[Optional[LSTMState]]
    canvas: Optional[Tensor]

    def tensors(self) -> List[Tensor]:
        """The tensors of a state whose tensors are all given: every cell's
        ``h`` and ``c``, bottom to top, then the canvas."""
        return [tensor for cell in self.lstm for tensor in cell] + [
            self.canvas
        ]

    @classmethod
    def from_tensors(cls, tensors: Sequence[Tensor]) -> 'RecurrentState':
        """The state of :meth:`tensors`."""
        cells = tensors[:-1]
        return cls([(cells[index], cells[index + 1])
                    for index in range(0, len(cells), 2)], tensors[-1])


StepFunction = Callable[[Tensor, Optional[Tensor], RecurrentState],
                        RecurrentState]
ExitRule = Callable[[int, Tensor], Tensor]
"""Says after a step (its number, from 1) which of the running positions
stop, from their canvas rows (P, num_classes): a (P, ) bool tensor. See
:class:`~.step_policies.PositionExitRule`."""


@MODELS.register_module()
class ConvLSTMCanvasHead(BaseDecodeHead):
    """Stack of convolutional LSTMs painting on a canvas.

    At every recurrent step the backbone features go through the stack of
    cells, and the top cell's ``h`` (one map per class) is added to a canvas
    that starts at zero. The canvas after the last step, bilinearly upsampled,
    is the prediction; running fewer steps costs less and predicts worse.

    Args:
        hidden_channels (Sequence[int]): Hidden channels of the cells, bottom
            to top. The last must equal ``num_classes``.
            Default: (512, 256, 21).
        kernel_size (int): Kernel size of every cell. Default: 1.
        forget_bias (float): Forget-gate offset of every cell. Default: 1.0.
        num_steps (int): Recurrent steps in training, and in inference unless
            ``test_cfg.num_steps`` says otherwise. Default: 10.
        step_loss_weights (Sequence[float], optional): Weight of the loss on
            the canvas after each training step. Default: equal weights
            summing to 1.
        step_loss_fast_path (bool): Compute the step losses with
            :func:`~.step_losses.fast_step_losses`; False calls MMSeg's
            ``loss_by_feat`` for every step, as a decode head usually does.
            Both give the same values and gradients. Default: True.
        cache_input_projection (bool): Compute the bottom cell's input
            convolution once per image instead of once per step; the result
            is the same. Default: True.
        fused_step (bool): Run every step, in training and inference, as
            :meth:`dense_step` from zero tensors with the element-wise part
            of each cell compiled by ``torch.compile`` (see
            :func:`fused_lstm_pointwise`); the result equals that of
            :meth:`step` to rounding. Default: False (:meth:`step`, the
            reference, which skips the recurrent convolutions of the first
            step).
        init_cfg (dict): Glorot-normal (Xavier) initialisation of every
            convolution of the cells.
        **kwargs: Arguments of :class:`BaseDecodeHead` (``in_channels``,
            ``num_classes``, ``in_index``, ``loss_decode``, ...).
    """

    def __init__(self,
                 hidden_channels: Sequence[int] = (512, 256, 21),
                 kernel_size: int = 1,
                 forget_bias: float = 1.0,
                 num_steps: int = 10,
                 step_loss_weights: Optional[Sequence[float]] = None,
                 step_loss_fast_path: bool = True,
                 cache_input_projection: bool = True,
                 fused_step: bool = False,
                 init_cfg: ConfigType = dict(
                     type='Xavier', distribution='normal', layer='Conv2d'),
                 **kwargs) -> None:
        super().__init__(
            channels=hidden_channels[-1],
            dropout_ratio=0.0,
            init_cfg=init_cfg,
            **kwargs)
        self._check_config(hidden_channels, num_steps, step_loss_weights)
        # BaseDecodeHead always builds a classifier; the top cell is ours, and
        # a parameter left out of the loss would break DDP.
        del self.conv_seg
        self.num_steps = num_steps
        self.step_loss_weights = step_loss_weights
        self.step_loss_fast_path = step_loss_fast_path
        self.cache_input_projection = cache_input_projection
        self.fused_step = fused_step
        self.kernel_size = kernel_size
        layer_inputs = [self.in_channels, *hidden_channels[:-1]]
        self.cells = nn.ModuleList(
            ConvLSTMCell(in_ch, hidden_ch, kernel_size, forget_bias)
            for in_ch, hidden_ch in zip(layer_inputs, hidden_channels))

    def _check_config(self, hidden_channels: Sequence[int], num_steps: int,
                      step_loss_weights: Optional[Sequence[float]]) -> None:
        if hidden_channels[-1] != self.out_channels:
            raise ValueError(
                'decode_head.hidden_channels must end with the number of '
                f'classes ({self.out_channels}: decode_head.num_classes), '
                f'got {tuple(hidden_channels)}')
        if num_steps < 1:
            raise ValueError(
                f'decode_head.num_steps must be at least 1, got {num_steps}')
        if (step_loss_weights is not None
                and len(step_loss_weights) != num_steps):
            raise ValueError(
                'decode_head.step_loss_weights needs one weight per step '
                f'({num_steps}), got {len(step_loss_weights)}')

    def initial_state(self) -> RecurrentState:
        """Zero LSTM states and an empty canvas."""
        return RecurrentState([None] * len(self.cells), None)

    def run_steps(
        self,
        features: Tensor,
        num_steps: int,
        state: Optional[RecurrentState] = None
    ) -> Tuple[List[Tensor], RecurrentState]:
        """Runs ``num_steps`` recurrent steps on one feature map.

        Args:
            features (Tensor): Backbone features (N, C, h, w).
            num_steps (int): Steps to run.
            state (RecurrentState, optional): Where to start; None for zeros.

        Returns:
            tuple: The canvas after each step (a list of ``num_steps``
            tensors of shape (N, num_classes, h, w)) and the final state.
        """
        if num_steps < 1:
            raise ValueError(f'num_steps must be at least 1, got {num_steps}')
        canvases = []
        for state in islice(self.iter_steps(features, state), num_steps):
            canvases.append(state.canvas)
        return canvases, state

    def iter_steps(self,
                   features: Tensor,
                   state: Optional[RecurrentState] = None
                   ) -> Iterator[RecurrentState]:
        """The state after each recurrent step from ``state`` (None for
        zeros), endlessly. The bottom cell's input projection is computed
        now (so that a clock started next times the steps alone); each step
        runs when the next state is asked for."""
        step, state = self._stepper(features, state)
        return _iterate_steps(step, features, self.bottom_projection(features),
                              state)

    def iter_canvases(self, features: Tensor) -> Iterator[Tensor]:
        """The canvas after each recurrent step from zeros, endlessly, as
        :meth:`iter_steps` runs them."""
        return (state.canvas for state in self.iter_steps(features))

    def _stepper(self, features: Tensor, state: Optional[RecurrentState]
                 ) -> Tuple[StepFunction, RecurrentState]:
        """The step function (fused or the reference) and the state it
        starts from."""
        if self.fused_step:
            return self.dense_step, self.dense_state(features, state)
        return self.step, state if state is not None else self.initial_state()

    def dense_state(self,
                    features: Tensor,
                    state: Optional[RecurrentState] = None) -> RecurrentState:
        """``state`` (None: :meth:`initial_state`) with zero tensors for the
        LSTM states and the canvas it lacks, shaped for ``features``, in
        :func:`~.convlstm_cell.state_dtype` (fp32 under autocast)."""
        state = state if state is not None else self.initial_state()

        def zeros(channels: int) -> Tensor:
            return features.new_zeros(
                features.shape[0],
                channels,
                *features.shape[2:],
                dtype=state_dtype(features))

        lstm = [
            cell_state if cell_state is not None else
            (zeros(cell.hidden_channels), zeros(cell.hidden_channels))
            for cell, cell_state in zip(self.cells, state.lstm)
        ]
        canvas = (
            state.canvas
            if state.canvas is not None else zeros(self.out_channels))
        return RecurrentState(lstm, canvas)

    def bottom_projection(self, features: Tensor) -> Optional[Tensor]:
        """The bottom cell's input convolution of ``features``, to reuse at
        every step; None without ``cache_input_projection``."""
        if not self.cache_input_projection:
            return None
        return self.cells[0].project_input(features)

    def step(self, features: Tensor, bottom_projection: Optional[Tensor],
             state: RecurrentState) -> RecurrentState:
        """One recurrent step of every cell, adding the top ``h`` to the
        canvas.

        Args:
            features (Tensor): Backbone features (N, C, h, w).
            bottom_projection (Tensor, optional): :meth:`bottom_projection`
                of ``features``; None computes it in this step.
            state (RecurrentState): The state before the step.

        Returns:
            RecurrentState: The state after the step.
        """
        lstm = self._step_cells(features, bottom_projection, state,
                                ConvLSTMCell.step)
        return _paint(state, lstm)

    def dense_step(self, features: Tensor, bottom_projection: Optional[Tensor],
                   state: RecurrentState) -> RecurrentState:
        """:meth:`step` on a state whose tensors are all given (see
        :meth:`dense_state`): the same operations at every step, as CUDA
        graphs and ``torch.compile`` need; from zeros its result equals
        :meth:`step` from None. With ``fused_step`` the element-wise part of
        each cell is compiled. Arguments and result as :meth:`step`."""
        lstm = self._step_cells(
            features, bottom_projection, state,
            partial(ConvLSTMCell.dense_step, fused=self.fused_step))
        return RecurrentState(lstm, state.canvas + lstm[-1][0])

    def _step_cells(self, features: Tensor,
                    bottom_projection: Optional[Tensor],
                    state: RecurrentState,
                    cell_step: Callable[..., LSTMState],
                    project_input: Optional[Callable[[ConvLSTMCell, Tensor],
                                                     Tensor]] = None
                    ) -> List[LSTMState]:
        """Every cell's new ``(h, c)``, bottom to top, by ``cell_step``
        (:meth:`ConvLSTMCell.step` or :meth:`ConvLSTMCell.dense_step`) from
        the input projection by ``project_input`` (None: the cell's
        :meth:`ConvLSTMCell.project_input`)."""
        lstm = []
        layer_input = features
        for index, cell in enumerate(self.cells):
            if index == 0 and bottom_projection is not None:
                projection = bottom_projection
            elif project_input is None:
                projection = cell.project_input(layer_input)
            else:
                projection = project_input(cell, layer_input)
            cell_state = cell_step(cell, projection, state.lstm[index])
            lstm.append(cell_state)
            layer_input = cell_state[0]
        return lstm

    def run_until_settled(self,
                          features: Tensor,
                          max_steps: int,
                          min_steps: int = 2,
                          change_fraction: float = 0.01
                          ) -> Tuple[Tensor, Tensor]:
        """Steps every image until its labels settle (adaptive exit).

        An image stops after step ``t`` (``min_steps <= t <= max_steps``)
        once the labels of its canvas (argmax over classes, at feature
        resolution, where the check costs next to nothing) differ from those
        after step ``t - 1`` on fewer than ``change_fraction`` of the
        positions. Stopped images leave the batch, so later steps cost only
        the images still running.

        Args:
            features (Tensor): Backbone features (N, C, h, w).
            max_steps (int): Steps after which every image stops.
            min_steps (int): Steps every image runs; at least 2, since the
                change is measured between two steps. Default: 2.
            change_fraction (float): Fraction of positions in [0, 1] whose
                label may still change when an image stops. Default: 0.01.

        Returns:
            tuple[Tensor, Tensor]: The canvas of every image when it stopped
            (N, num_classes, h, w) and the steps it ran (N, ), int64.
        """
        _check_exit_config(max_steps, min_steps, change_fraction)
        num_images = features.shape[0]
        final_canvas = features.new_empty(
            num_images,
            self.out_channels,
            *features.shape[2:],
            dtype=state_dtype(features))
        steps_used = torch.zeros(
            num_images, dtype=torch.long, device=features.device)
        running = torch.arange(num_images, device=features.device)
        bottom_projection = self.bottom_projection(features)
        step_function, state = self._stepper(features, None)
        labels = None
        for step in range(1, max_steps + 1):
            state = step_function(features, bottom_projection, state)
            new_labels = state.canvas.argmax(dim=1)
            stops = torch.full_like(running, step == max_steps, dtype=bool)
            if step >= min_steps:
                changed = (new_labels != labels).flatten(1).float().mean(1)
                stops |= changed < change_fraction
            final_canvas[running[stops]] = state.canvas[stops]
            steps_used[running[stops]] = step
            keep = ~stops
            if not keep.any():
                break
            running, features, labels = (running[keep], features[keep],
                                         new_labels[keep])
            if bottom_projection is not None:
                bottom_projection = bottom_projection[keep]
            state = _select_images(state, keep)
        return final_canvas, steps_used

    def run_until_positions_settle(self, features: Tensor, max_steps: int,
                                   exit_rule: ExitRule
                                   ) -> Tuple[Tensor, Tensor]:
        """Steps every feature position from zeros until ``exit_rule``
        stops it (per-position adaptive exit), all of them at ``max_steps``
        (see :meth:`advance_positions`).

        Args:
            features (Tensor): Backbone features (N, C, h, w).
            max_steps (int): Steps after which every position stops.
            exit_rule (ExitRule): Which running positions stop after each
                step; it is called once per step.

        Returns:
            tuple[Tensor, Tensor]: The canvas of every position when it
            stopped (N, num_classes, h, w) and the steps it ran (N, h, w),
            int64.
        """
        state, exit_steps = self.advance_positions(features, max_steps,
                                                   exit_rule)
        return state.canvas.contiguous(), exit_steps

    def advance_positions(self,
                          features: Tensor,
                          max_steps: int,
                          exit_rule: ExitRule,
                          state: Optional[RecurrentState] = None,
                          runs: Optional[Tensor] = None
                          ) -> Tuple[RecurrentState, Tensor]:
        """Steps the feature positions where ``runs`` is True from
        ``state`` until ``exit_rule`` stops each, all of them at
        ``max_steps``; the other positions keep their state.

        The cells are 1x1 convolutions, so a position's recurrence never
        reads another's. The running positions of the whole batch are rows
        of a matrix; each step runs the cells on them as matrix products
        (:meth:`row_step`), and the positions that stop leave the matrix, so
        later steps cost only the positions still running. A stopped
        position keeps its state: that of a dense run after its exit step.

        Args:
            features (Tensor): Backbone features (N, C, h, w).
            max_steps (int): Steps after which every position stops.
            exit_rule (ExitRule): Which running positions stop after each
                step; it is called once per step.
            state (RecurrentState, optional): Where to start, every tensor
                given (as a video frame leaves it); None for zeros.
            runs (Tensor, optional): (N, h, w) bool, the positions that
                step; None for all. Needs ``state``.

        Returns:
            tuple[RecurrentState, Tensor]: The state of every position when
            it stopped (tensors (N, channels, h, w)) and the steps it ran
            (N, h, w), int64: 0 where it did not run.
        """
        self._check_positions_independent()
        rows = _to_rows(features)
        final = _RowState(self, features, state)
        running = final.running_positions(runs)
        exit_steps = torch.zeros(
            rows.shape[0], dtype=torch.long, device=features.device)
        if runs is not None:
            rows = rows[running]
        bottom_projection = None
        if self.cache_input_projection:
            bottom_projection = project_rows(self.cells[0], rows)
            rows = None
        row_state = final.select(running)
        for step in range(1, max_steps + 1):
            if len(running) == 0:
                break
            row_state = self.row_step(rows, bottom_projection, row_state)
            if step == max_steps:
                final.write(running, row_state)
                exit_steps[running] = step
                break
            stops = exit_rule(step, row_state.canvas)
            if not stops.any():
                continue
            final.write(running[stops], _select_images(row_state, stops))
            exit_steps[running[stops]] = step
            keep = ~stops
            running, rows, bottom_projection = (
                running[keep], _select_rows(rows, keep),
                _select_rows(bottom_projection, keep))
            row_state = _select_images(row_state, keep)
        return final.dense(), exit_steps.view(features.shape[0],
                                              *features.shape[2:])

    def row_step(self, rows: Optional[Tensor],
                 bottom_projection: Optional[Tensor],
                 state: RecurrentState) -> RecurrentState:
        """:meth:`step` on positions as rows: features (P, C) (None when
        ``bottom_projection`` is given), the bottom projection (P, 4 x
        hidden) and a state of rows, with the cells' 1x1 convolutions as
        matrix products."""
        lstm = self._step_cells(rows, bottom_projection, state,
                                row_cell_step, project_rows)
        return _paint(state, lstm)

    def _check_positions_independent(self) -> None:
        """Refuses cells whose convolutions read neighbouring positions:
        per-position exit would then change the result."""
        convs = [conv for cell in self.cells
                 for conv in (cell.input_conv, cell.hidden_conv)]
        if any(conv.kernel_size != (1, 1) for conv in convs):
            raise ValueError(
                'model.test_cfg.adaptive_exit.per_position=True runs every '
                'feature position on its own, but model.decode_head.'
                f'kernel_size={self.kernel_size} makes each step read the '
                'neighbouring positions: use a head with kernel_size=1, or '
                'per-image exit (per_position=False)')

    def forward_until_positions_settle(self, inputs: Tuple[Tensor],
                                       max_steps: int, exit_rule: ExitRule
                                       ) -> Tuple[Tensor, Tensor]:
        """:meth:`run_until_positions_settle` on the backbone outputs
        ``inputs``."""
        return self.run_until_positions_settle(
            self._transform_inputs(inputs), max_steps, exit_rule)

    def _transform_inputs(self, inputs: Union[Tensor, Sequence[Tensor]]
                          ) -> Tensor:
        """The feature map this head reads. A backbone with one output
        (e.g. MMSeg's ``MobileNetV2`` with one ``out_indices`` entry) gives
        a bare tensor, where ``in_index`` would pick an image of the batch:
        it is taken as the one output, which ``in_index`` must then name."""
        if isinstance(inputs, Tensor):
            if self.in_index not in (0, -1):
                raise ValueError(
                    'the backbone returns one feature map (a tensor, not a '
                    'tuple: model.backbone.out_indices has one entry), but '
                    f'model.decode_head.in_index={self.in_index} picks '
                    f'output number {self.in_index}: set in_index=0 or give '
                    'the backbone more out_indices')
            inputs = [inputs]
        return super()._transform_inputs(inputs)

    def forward_steps(self, inputs: Tuple[Tensor],
                      num_steps: int) -> List[Tensor]:
        """The canvas after each of ``num_steps`` steps, from a cold start."""
        features = self._transform_inputs(inputs)
        return self.run_steps(features, num_steps)[0]

    def forward_until_settled(self, inputs: Tuple[Tensor], max_steps: int,
                              **exit_cfg) -> Tuple[Tensor, Tensor]:
        """:meth:`run_until_settled` on the backbone outputs ``inputs``;
        ``exit_cfg`` holds ``min_steps`` and ``change_fraction``."""
        features = self._transform_inputs(inputs)
        return self.run_until_settled(features, max_steps, **exit_cfg)

    def forward(self, inputs: Tuple[Tensor]) -> Tensor:
        """The canvas (logits at feature resolution) after ``num_steps``."""
        return self.forward_steps(inputs, self.num_steps)[-1]

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Loss on the canvas after every step, weighted and summed.

        Each loss term (e.g. ``loss_ce``) is the weighted sum over steps; the
        unweighted value at step ``t`` is logged as ``ce_step{t}``, and
        ``acc_seg`` is the accuracy of the last step. The losses are those
        of :func:`~.step_losses.fast_step_losses` unless
        :attr:`step_loss_fallback` names a reason to call ``loss_by_feat``.
        """
        canvases = self.forward_steps(inputs, self.num_steps)
        weights = self.step_loss_weights or [1.0 / len(canvases)
                                             ] * len(canvases)
        step_losses, accuracy = self.canvas_losses(canvases,
                                                   batch_data_samples)
        losses = weighted_loss_sum([
            (f'step{step}', weight, terms)
            for step, (weight, terms) in enumerate(
                zip(weights, step_losses), 1)
        ])
        losses['acc_seg'] = accuracy
        return losses

    @property
    def step_loss_fallback(self) -> Optional[str]:
        """Why the step losses are computed by ``loss_by_feat``, or None
        when by :func:`~.step_losses.fast_step_losses`."""
        return step_loss_fallback(self)

    def canvas_losses(self, canvases: List[Tensor],
                      batch_data_samples: SampleList
                      ) -> Tuple[List[dict], Tensor]:
        """The loss terms (by name, unweighted) of each canvas against the
        labels of ``batch_data_samples``, and the accuracy of the last
        canvas: :func:`~.step_losses.fast_step_losses`, or ``loss_by_feat``
        when :attr:`step_loss_fallback` says so."""
        if self.step_loss_fallback is None:
            return fast_step_losses(self, canvases, batch_data_samples)
        step_losses = [
            self.loss_by_feat(canvas, batch_data_samples)
            for canvas in canvases
        ]
        accuracies = [losses.pop('acc_seg') for losses in step_losses]
        return step_losses, accuracies[-1]

    def predict(self, inputs: Tuple[Tensor], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Logits after ``test_cfg.num_steps`` (default: ``num_steps``)
        steps, upsampled to the input."""
        num_steps = check_num_steps(
            test_cfg.get('num_steps', self.num_steps),
            'model.test_cfg.num_steps')
        canvas = self.forward_steps(inputs, num_steps)[-1]
        return self.predict_by_feat(canvas, batch_img_metas)


def _paint(state: RecurrentState,
           lstm: List[LSTMState]) -> RecurrentState:
    """The state after a step whose cells gave ``lstm``: the top ``h``
    added to the canvas of ``state`` (the canvas, if it has none)."""
    top = lstm[-1][0]
    canvas = top if state.canvas is None else state.canvas + top
    return RecurrentState(lstm, canvas)


def project_rows(cell: ConvLSTMCell, rows: Tensor) -> Tensor:
    """The input projection of a 1x1 cell on positions as rows: (P, C) to
    (P, 4 x hidden)."""
    return F.linear(rows, cell.input_conv.weight.flatten(1),
                    cell.input_conv.bias)


def row_cell_step(cell: ConvLSTMCell, input_projection: Tensor,
                  state: Optional[LSTMState]) -> LSTMState:
    """:meth:`ConvLSTMCell.step` of a 1x1 cell on positions as rows
    (``input_projection`` (P, 4 x hidden), ``h`` and ``c`` (P, hidden));
    from None (zeros) it skips the recurrent projection."""
    if state is None:
        zero = input_projection.new_zeros((),
                                          dtype=state_dtype(input_projection))
        return lstm_pointwise(input_projection, zero, zero, cell.forget_bias)
    recurrent = F.linear(state[0], cell.hidden_conv.weight.flatten(1))
    return lstm_pointwise(input_projection, recurrent, state[1],
                          cell.forget_bias)


def _select_rows(rows: Optional[Tensor], keep: Tensor) -> Optional[Tensor]:
    return None if rows is None else rows[keep]


def _iterate_steps(step: StepFunction, features: Tensor,
                   bottom_projection: Optional[Tensor],
                   state: RecurrentState) -> Iterator[RecurrentState]:
    while True:
        state = step(features, bottom_projection, state)
        yield state


def _check_exit_config(max_steps: int, min_steps: int,
                       change_fraction: float) -> None:
    if not 2 <= min_steps <= max_steps:
        raise ValueError(
            'adaptive exit needs 2 <= min_steps <= max_steps (the labels '
            'change between two steps), got min_steps='
            f'{min_steps}, max_steps={max_steps}')
    if not 0 <= change_fraction <= 1:
        raise ValueError('adaptive exit needs change_fraction in [0, 1], got '
                         f'{change_fraction}')


def _select_images(state: RecurrentState, keep: Tensor) -> RecurrentState:
    """The state of the images (or positions, as rows) where ``keep``
    (N, ) is True."""
    lstm = [
        None if cell_state is None else (cell_state[0][keep],
                                         cell_state[1][keep])
        for cell_state in state.lstm
    ]
    return RecurrentState(lstm, state.canvas[keep])


def _to_rows(tensor: Tensor) -> Tensor:
    """A copy of a map (N, C, h, w) as rows (N x h x w, C), position by
    position."""
    rows = tensor.new_empty(tensor.shape[0], *tensor.shape[2:],
                            tensor.shape[1])
    rows.copy_(tensor.permute(0, 2, 3, 1))
    return rows.view(-1, tensor.shape[1])


class _RowState:
    """The state of every feature position of a batch as rows, into which
    :meth:`ConvLSTMCanvasHead.advance_positions` writes each position's
    state when it stops.

    Args:
        head (ConvLSTMCanvasHead): The head.
        features (Tensor): Its features (N, C, h, w).
        state (RecurrentState, optional): The state to start from, every
            tensor given; None for zeros (every position must then run).
    """

    def __init__(self, head: ConvLSTMCanvasHead, features: Tensor,
                 state: Optional[RecurrentState]) -> None:
        self.shape = (features.shape[0], *features.shape[2:])
        self.num_cells = len(head.cells)
        self.started = state is not None
        if self.started:
            self.tensors = [_to_rows(tensor) for tensor in state.tensors()]
            return
        num_positions = features.shape[0] * features.shape[2:].numel()
        channels = [
            cell.hidden_channels for cell in head.cells
            for _ in ('h', 'c')
        ] + [head.out_channels]
        self.tensors = [
            features.new_empty(
                num_positions, size, dtype=state_dtype(features))
            for size in channels
        ]

    def running_positions(self, runs: Optional[Tensor]) -> Tensor:
        """The row indices of the positions that step."""
        if runs is None:
            return torch.arange(
                self.tensors[0].shape[0], device=self.tensors[0].device)
        if not self.started:
            raise ValueError('only some positions can step from a state that '
                             'every position has, not from zeros (None)')
        if tuple(runs.shape) != self.shape:
            raise ValueError(f'runs must be {self.shape} (one flag per '
                             f'feature position), got {tuple(runs.shape)}')
        return runs.flatten().nonzero().squeeze(1)

    def select(self, running: Tensor) -> RecurrentState:
        """The state of the rows ``running`` to step from."""
        if not self.started:
            return RecurrentState([None] * self.num_cells, None)
        return RecurrentState.from_tensors(
            [tensor[running] for tensor in self.tensors])

    def write(self, positions: Tensor, state: RecurrentState) -> None:
        """Keeps ``state`` (rows) as the state of the rows ``positions``."""
        for tensor, rows in zip(self.tensors, state.tensors()):
            tensor[positions] = rows

    def dense(self) -> RecurrentState:
        """Every position's state as maps (N, channels, h, w)."""
        return RecurrentState.from_tensors([
            tensor.view(*self.shape, -1).permute(0, 3, 1, 2)
            for tensor in self.tensors
        ])

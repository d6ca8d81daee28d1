"""The recurrent decode head: a stack of convolutional LSTMs painting on a
canvas, one step at a time."""
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from torch import Tensor

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from ..acceleration.fused_pointwise import fused_lstm_pointwise
from ..exits.exit_settings import check_num_steps
from ..exits.step_loop import EagerSteps, run_until
from ..layers.convlstm_cell import (ConvLSTMCell, conv_as_rows, lstm_pointwise,
                                    state_dtype)
from ..layers.recurrent_state import RecurrentState, decay_canvas
from ..losses.step_losses import (canvas_losses, step_loss_fallback,
                                  weighted_loss_sum)


@MODELS.register_module()
class ConvLSTMCanvasHead(BaseDecodeHead):
    """Stack of convolutional LSTMs painting on a canvas.

    At every recurrent step (:meth:`step`) the features go through the stack
    of cells (:class:`~..layers.ConvLSTMCell`), and the top cell's ``h``
    (one map per class) is added to a canvas that starts at zero. The canvas
    after the last step, bilinearly upsampled, is the prediction; running
    fewer steps costs less and predicts worse. With ``context_cfg`` a
    context module runs once per image on the backbone features, before the
    steps (:meth:`recurrence_input`); with ``init_canvas`` the canvas starts
    from a 1x1 classifier of what the recurrence reads instead of zeros
    (:meth:`cold_state`). Every step stays pointwise.

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
            :func:`~..losses.step_losses.fast_step_losses`; False calls
            MMSeg's ``loss_by_feat`` for every step, as a decode head
            usually does. Both give the same values and gradients.
            Default: True.
        cache_input_projection (bool): Compute the bottom cell's input
            convolution once per image instead of once per step; the result
            is the same. Default: True.
        fused_step (bool): Run every step from a state of zero tensors (see
            :meth:`dense_state`) with the element-wise part of each cell
            compiled by ``torch.compile`` (see
            :func:`~..acceleration.fused_pointwise.fused_lstm_pointwise`);
            the result equals the reference to rounding. Default: False
            (the reference, which skips the recurrent convolutions of the
            first step).
        context_cfg (dict, optional): A module computed once per image whose
            output the bottom cell reads instead of the backbone features
            (e.g. ``dict(type='ASPPContext', channels=256)``; its
            ``in_channels`` is the head's). Default: None (the paper's
            head).
        init_canvas (bool): Start the canvas of a cold start from a 1x1
            convolution (a classifier) of what the recurrence reads,
            computed once per image, instead of zeros. Default: False (the
            paper's).
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
                 context_cfg: Optional[ConfigType] = None,
                 init_canvas: bool = False,
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
        self.context = None if context_cfg is None else MODELS.build(
            dict(context_cfg, in_channels=self.in_channels))
        bottom_input = (
            self.in_channels
            if self.context is None else self.context.out_channels)
        self.canvas_classifier = nn.Conv2d(
            bottom_input, self.out_channels, 1) if init_canvas else None
        layer_inputs = [bottom_input, *hidden_channels[:-1]]
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

    def step(self,
             features: Optional[Tensor],
             bottom_projection: Optional[Tensor],
             state: RecurrentState,
             rows: bool = False) -> RecurrentState:
        """One recurrent step of every cell, the top ``h`` added to the
        canvas: the recurrence, written once.

        Args:
            features (Tensor, optional): What the bottom cell reads,
                (N, C, h, w) maps or (P, C) rows; unused (may be None) when
                ``bottom_projection`` is given.
            bottom_projection (Tensor, optional): :meth:`bottom_projection`
                of ``features``; None computes it in this step.
            state (RecurrentState): The state before the step (see
                :meth:`initial_state` and :meth:`dense_state`).
            rows (bool): Tensors are feature positions as rows (P, channels)
                and the 1x1 cells matrix products. Default: False.

        Returns:
            RecurrentState: The state after the step.
        """
        pointwise = lstm_pointwise
        if self.fused_step and not rows and None not in state.lstm:
            pointwise = fused_lstm_pointwise()
        lstm, layer_input = [], features
        for index, (cell,
                    cell_state) in enumerate(zip(self.cells, state.lstm)):
            projection = bottom_projection
            if index > 0 or projection is None:
                projection = cell.project_input(layer_input, rows)
            lstm.append(cell.step(projection, cell_state, rows, pointwise))
            layer_input = lstm[-1][0]
        canvas = layer_input if state.canvas is None else (state.canvas +
                                                           layer_input)
        return RecurrentState(lstm, canvas)

    def bottom_projection(self,
                          features: Tensor,
                          rows: bool = False) -> Optional[Tensor]:
        """The bottom cell's input convolution of ``features``, to reuse at
        every step; None without ``cache_input_projection``."""
        if not self.cache_input_projection:
            return None
        return self.cells[0].project_input(features, rows)

    def initial_state(self) -> RecurrentState:
        """Zero LSTM states and an empty canvas, as None."""
        return RecurrentState([None] * len(self.cells), None)

    def cold_state(self, features: Tensor, rows: bool = False
                   ) -> RecurrentState:
        """The state a cold start on ``features`` starts from: zero LSTM
        states, and the canvas of ``canvas_classifier`` (``init_canvas``)
        or none."""
        if self.canvas_classifier is None:
            return self.initial_state()
        canvas = conv_as_rows(self.canvas_classifier, features) if rows \
            else self.canvas_classifier(features)
        return self.initial_state()._replace(
            canvas=canvas.to(state_dtype(features)))

    def next_frame_state(self, state: RecurrentState, features: Tensor,
                         canvas_decay: float) -> RecurrentState:
        """The state the steps on a new video frame's ``features`` start
        from: the LSTM states that the previous frame left in ``state``, its
        canvas blended with the frame's :meth:`cold_state` canvas (zero
        without ``init_canvas``) by :func:`~..layers.recurrent_state.
        decay_canvas`."""
        cold_canvas = self.cold_state(features).canvas \
            if canvas_decay < 1 else None
        return decay_canvas(state, canvas_decay, cold_canvas)

    def dense_state(self,
                    features: Tensor,
                    state: Optional[RecurrentState] = None) -> RecurrentState:
        """``state`` (None: :meth:`cold_state`) with zero tensors, shaped
        for ``features`` and in :func:`~..layers.convlstm_cell.state_dtype`
        (fp32 under autocast), for what it lacks: every step then runs the
        same operations, as CUDA graphs and ``torch.compile`` need."""
        state = state if state is not None else self.cold_state(features)
        return state.filled(features,
                            [cell.hidden_channels for cell in self.cells],
                            self.out_channels, state_dtype(features))

    def start_state(self,
                    features: Tensor,
                    state: Optional[RecurrentState],
                    rows: bool = False) -> RecurrentState:
        """The state the steps on ``features`` (maps, or rows with
        ``rows``) start from: ``state``, or :meth:`cold_state` when None;
        as :meth:`dense_state` on maps with ``fused_step`` (the fused step
        runs on maps only)."""
        if self.fused_step and not rows:
            return self.dense_state(features, state)
        return state if state is not None else self.cold_state(features, rows)

    def run_steps(
        self,
        features: Tensor,
        num_steps: int,
        state: Optional[RecurrentState] = None
    ) -> Tuple[List[Tensor], RecurrentState]:
        """Runs ``num_steps`` steps on ``features`` (N, C, h, w) from
        ``state`` (None for zeros); returns the canvas after each step and
        the final state."""
        run = run_until(
            EagerSteps(self, features, state),
            num_steps,
            keep_all=True,
            key='num_steps')
        return run.canvases, run.state

    def _transform_inputs(self, inputs: Union[Tensor,
                                              Sequence[Tensor]]) -> Tensor:
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

    def recurrence_input(self, features: Tensor) -> Tensor:
        """What the recurrence reads of the backbone ``features``
        (N, C, h, w): the context module's output, or the features."""
        return features if self.context is None else self.context(features)

    def forward_steps(self, inputs: Tuple[Tensor],
                      num_steps: int) -> List[Tensor]:
        """The canvas after each of ``num_steps`` steps on the backbone
        outputs ``inputs``, from a cold start."""
        features = self.recurrence_input(self._transform_inputs(inputs))
        return self.run_steps(features, num_steps)[0]

    def forward(self, inputs: Tuple[Tensor]) -> Tensor:
        """The canvas (logits at feature resolution) after ``num_steps``."""
        return self.forward_steps(inputs, self.num_steps)[-1]

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Loss on the canvas after every step, weighted and summed: each
        term (e.g. ``loss_ce``) is the weighted sum over steps, the
        unweighted value at step ``t`` is logged as ``ce_step{t}``, and
        ``acc_seg`` is the accuracy of the last step."""
        canvases = self.forward_steps(inputs, self.num_steps)
        weights = self.step_loss_weights or [1.0 / len(canvases)
                                             ] * len(canvases)
        step_losses, accuracy = canvas_losses(self, canvases,
                                              batch_data_samples)
        losses = weighted_loss_sum([
            (f'step{step}', weight, terms)
            for step, (weight,
                       terms) in enumerate(zip(weights, step_losses), 1)
        ])
        losses['acc_seg'] = accuracy
        return losses

    @property
    def step_loss_fallback(self) -> Optional[str]:
        """Why the step losses are computed by ``loss_by_feat``, or None
        when by :func:`~..losses.step_losses.fast_step_losses` (see
        :func:`~..losses.step_losses.canvas_losses`)."""
        return step_loss_fallback(self)

    def predict(self, inputs: Tuple[Tensor], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Logits after ``test_cfg.num_steps`` (default: ``num_steps``)
        steps, upsampled to the input."""
        num_steps = check_num_steps(
            test_cfg.get('num_steps', self.num_steps),
            'model.test_cfg.num_steps')
        canvas = self.forward_steps(inputs, num_steps)[-1]
        return self.predict_by_feat(canvas, batch_img_metas)

from .convlstm_canvas_head import RecurrentState


def decay_canvas(state: RecurrentState, canvas_decay: float) -> RecurrentState:
    """The state a new video frame starts from: the LSTM states of
    ``state`` and its canvas times ``canvas_decay`` (1 keeps it; 0 drops it,
    so that the frame's first step starts from an empty canvas)."""
    if canvas_decay == 1:
        return state
    canvas = None if canvas_decay == 0 else canvas_decay * state.canvas
    return RecurrentState(state.lstm, canvas)

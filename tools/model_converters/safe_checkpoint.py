"""Convert a checkpoint of MMEngine's stock CheckpointHook, or of MMSeg's
model zoo, into the safe form this project loads (torch.load with
weights_only=True): weights, meta, optimizer, schedulers and message hub as
tensors and plain Python data, written atomically.

Such checkpoints pickle objects (HistoryBuffer, numpy arrays,
builtins.getattr) whose loading can run any code, so our tools refuse them.
Converting loads the file once with weights_only=False: only do it, with
--trust-pickled-code, for a file whose origin you trust.
"""
import argparse
import sys

from mmseg_convlstm.engine.safe_checkpoint import (UnreadableCheckpointError,
                                                   UnsafeCheckpointError,
                                                   convert_to_safe_checkpoint)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source', help='the checkpoint to convert')
    parser.add_argument('destination', help='where the safe one is written')
    parser.add_argument(
        '--trust-pickled-code',
        action='store_true',
        help='load the source with weights_only=False, running the code its '
        'pickled objects name; without it, a checkpoint that pickles more '
        'than weights is refused')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    try:
        conversion = convert_to_safe_checkpoint(args.source,
                                                args.destination,
                                                args.trust_pickled_code)
    except (OSError, UnsafeCheckpointError,
            UnreadableCheckpointError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    if conversion.pickled_globals:
        print('pickled objects the source needed: ' +
              ', '.join(conversion.pickled_globals))
    if conversion.dropped:
        print('entries left out (not plain data): ' +
              ', '.join(conversion.dropped))
    print(f'wrote {args.destination}: it loads with weights_only=True')
    return 0


if __name__ == '__main__':
    sys.exit(main())

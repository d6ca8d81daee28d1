"""Export a recurrent model as graphs for ONNX Runtime or OpenVINO (see
docs/en/user_guides/deploy.md), as MMDeploy's tools/deploy.py takes a
config and a checkpoint."""
import argparse
import os.path as osp

from mmseg_convlstm.cli import (add_deploy_args, add_shape_arg, input_shape,
                                load_config)
from mmseg_convlstm.deploy.export import export_model, load_checked_model


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a recurrent model for deployment')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    add_shape_arg(parser)
    add_deploy_args(parser, 'onnxruntime',
                    'the inference engine (openvino also writes OpenVINO IR)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)
    work_dir = args.work_dir or osp.join(cfg.work_dir,
                                         f'deploy_{args.backend}')
    model = load_checked_model(cfg, args.checkpoint,
                               args.allow_partial_checkpoint)
    export_model(model, cfg, work_dir, args.backend, input_shape(args, cfg),
                 args.checkpoint)
    print(f'\nexported to {work_dir} (deploy.json lists the graphs)')


if __name__ == '__main__':
    main()

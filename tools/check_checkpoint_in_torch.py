#!/usr/bin/env python3
"""Load a RobustMRI checkpoint in plain PyTorch and print the model's logits.

Shows that a PyTorch user can use our weights: the model is rebuilt from the checkpoint's
`model_config` metadata (tools/paper_cnn.py), the tensors named `features.*` / `classifier.*` are
loaded with `load_state_dict(strict=True)` (any other tensor, such as a fixture's references, is
listed and skipped), and the model runs in evaluation mode on an input: the file's own `input`
tensor if it has one, else `--input FILE.npy` ([N, 1, S, S] float32 in [0, 1]), else a seeded random
batch. If the file holds `logits_eval` (a test fixture), the largest difference is printed too.

Usage: python3 tools/check_checkpoint_in_torch.py PATH.safetensors [--input x.npy] [--batch 2] [--seed 0]
"""
import argparse
import json
import sys

import numpy as np
import torch
from safetensors import safe_open

from paper_cnn import PaperCNN


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--input", help="a .npy array [N, 1, S, S] of float32 in [0, 1]")
    parser.add_argument("--batch", type=int, default=2, help="random batch size when there is no input")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with safe_open(args.checkpoint, framework="pt") as f:
        metadata = f.metadata() or {}
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    if "model_config" not in metadata:
        sys.exit(f"{args.checkpoint}: no 'model_config' metadata; this is not a RobustMRI model checkpoint")
    config = json.loads(metadata["model_config"])
    model = PaperCNN(config)
    prefixes = ("features.", "classifier.")
    state = {k: v for k, v in tensors.items() if k.startswith(prefixes)}
    skipped = sorted(k for k in tensors if not k.startswith(prefixes))
    model.load_state_dict(state, strict=True)  # raises on any missing or unexpected model tensor
    model.eval()

    if args.input:
        x = torch.from_numpy(np.load(args.input).astype(np.float32))
    elif "input" in tensors:
        x = tensors["input"]
    else:
        g = torch.Generator().manual_seed(args.seed)
        s = config["input_size"]
        x = torch.rand(args.batch, config.get("input_channels", 1), s, s, generator=g)
    with torch.no_grad():
        logits = model(x)
    report = {"checkpoint": args.checkpoint, "model_config": config, "loaded_tensors": len(state),
              "skipped_tensors": len(skipped), "input_shape": list(x.shape),
              "logits": logits.tolist(), "torch_version": torch.__version__}
    if "logits_eval" in tensors and "input" in tensors and not args.input:
        report["max_abs_diff_vs_logits_eval"] = (logits - tensors["logits_eval"]).abs().max().item()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

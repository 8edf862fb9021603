#!/usr/bin/env python3
"""Make the PyTorch reference fixtures for RobustMRI's CNN tests (Tests/NNTests/Fixtures/).

For each small configuration of the paper's CNN (tools/paper_cnn.py) this writes one safetensors file:
  - the model's state_dict under PyTorch's names (F32; num_batches_tracked I64 of shape []),
    with random weights AND perturbed BatchNorm affine parameters and running statistics;
  - `input` [4, 1, S, S] in [0, 1] (F32), `labels` [4] (I64, values 0..2);
  - training mode (batch statistics), loss = mean cross-entropy over the batch:
    `logits_train` [4, 3], `loss_train` [], `grad.<parameter name>` for every parameter,
    `input_grad_train` [4, 1, S, S] = d loss_train / d input,
    `after.<buffer name>`: running_mean, running_var, num_batches_tracked after that one forward
    (PyTorch updates running_var with the unbiased batch variance, factor n / (n - 1));
  - evaluation mode (running statistics), from the state_dict above (not the updated one):
    `logits_eval` [4, 3], `loss_eval` [], `input_grad_eval` [4, 1, S, S] = d loss_eval / d input,
    `features_eval` [4, F] = flatten(features(input)), the penultimate features h(x);
  - metadata: `model_config` (JSON, see paper_cnn.py) and `fixture` (JSON: seed, batch, notes).
The references are computed in float64 from the float32 weights and inputs, then stored as float32,
so they are the exact math rounded once. Deterministic: fixed seeds give bit-identical tensors (the
safetensors writer may order the metadata keys differently from run to run, so the bytes can differ).

Usage: python3 tools/make_nn_fixture.py [--out Tests/NNTests/Fixtures]
"""
import argparse
import copy
import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from paper_cnn import PaperCNN, spatial_sizes

FIXTURES = {
    "cnn_same3x3_20px": {"input_size": 20, "input_channels": 1, "channels": [4, 6], "kernel_size": 3,
                         "padding": "same", "num_classes": 3, "batch_norm_eps": 1e-5,
                         "batch_norm_momentum": 0.1},
    "cnn_valid5x5_36px": {"input_size": 36, "input_channels": 1, "channels": [4, 6], "kernel_size": 5,
                          "padding": "valid", "num_classes": 3, "batch_norm_eps": 1e-5,
                          "batch_norm_momentum": 0.1},
}
BATCH = 4
SEED = 20260401


def randomized_model(config, generator):
    """The CNN with every parameter and BatchNorm buffer drawn at random (not the default init)."""
    model = PaperCNN(config)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
            elif isinstance(module, torch.nn.BatchNorm2d):
                c = module.num_features
                module.weight.copy_(1.0 + 0.3 * torch.randn(c, generator=generator))
                module.bias.copy_(0.2 * torch.randn(c, generator=generator))
                module.running_mean.copy_(0.2 * torch.randn(c, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(c, generator=generator))
                module.num_batches_tracked.fill_(7)
            elif isinstance(module, torch.nn.Linear):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) / module.in_features ** 0.5)
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))
    return model


def f32(t):
    return t.detach().to(torch.float32).contiguous()


def make_fixture(name, config, seed):
    generator = torch.Generator().manual_seed(seed)
    model = randomized_model(config, generator)
    s = config["input_size"]
    inputs = torch.rand(BATCH, config["input_channels"], s, s, generator=generator)
    labels = torch.randint(0, config["num_classes"], (BATCH,), generator=generator)

    tensors = {k: (v.clone() if v.dtype == torch.int64 else f32(v)) for k, v in model.state_dict().items()}
    tensors["input"] = f32(inputs)
    tensors["labels"] = labels.to(torch.int64)

    # Training mode: batch statistics; running statistics updated once.
    train = copy.deepcopy(model).double().train()
    x = inputs.double().requires_grad_(True)
    logits = train(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    tensors["logits_train"] = f32(logits)
    tensors["loss_train"] = f32(loss)
    tensors["input_grad_train"] = f32(x.grad)
    for pname, p in train.named_parameters():
        tensors[f"grad.{pname}"] = f32(p.grad)
    for bname, b in train.named_buffers():
        tensors[f"after.{bname}"] = b.clone() if b.dtype == torch.int64 else f32(b)

    # Evaluation mode: running statistics of the stored state_dict.
    evaluation = copy.deepcopy(model).double().eval()
    x = inputs.double().requires_grad_(True)
    features = evaluation.penultimate(x)
    logits = evaluation.classifier(features)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    tensors["features_eval"] = f32(features)
    tensors["logits_eval"] = f32(logits)
    tensors["loss_eval"] = f32(loss)
    tensors["input_grad_eval"] = f32(x.grad)

    fixture = {"name": name, "seed": seed, "batch": BATCH, "feature_count": model.feature_count,
               "spatial_sizes": spatial_sizes(config), "loss": "mean cross-entropy",
               "computed_in": "float64, stored as float32", "torch_version": torch.__version__,
               "eval_state": "the stored state_dict (not the after.* statistics)"}
    metadata = {"model_config": json.dumps(config, sort_keys=True), "fixture": json.dumps(fixture, sort_keys=True)}
    return tensors, metadata


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "Tests", "NNTests", "Fixtures"))
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    for index, (name, config) in enumerate(FIXTURES.items()):
        tensors, metadata = make_fixture(name, config, SEED + index)
        path = os.path.join(args.out, f"{name}.safetensors")
        save_file(tensors, path, metadata=metadata)
        print(f"{path}: {len(tensors)} tensors, {os.path.getsize(path)} bytes, "
              f"loss_train {tensors['loss_train'].item():.6f}, loss_eval {tensors['loss_eval'].item():.6f}")


if __name__ == "__main__":
    main()

"""The paper's CNN in PyTorch, as the authors built it (see shared PAPER.md, "Model").

Blocks of Conv2d(k, stride 1, padding 0 ('valid') or k//2 ('same')) -> BatchNorm2d -> ReLU ->
MaxPool2d(2), in an nn.Sequential named `features`, then `classifier = nn.Linear(features, classes)`.
PyTorch's state_dict names are therefore `features.{4*b}.weight|bias` (convolution of block b),
`features.{4*b+1}.weight|bias|running_mean|running_var|num_batches_tracked` (its BatchNorm) and
`classifier.weight|bias`: the names RobustMRI's checkpoints use.

The configuration is the JSON stored under the metadata key `model_config` of a checkpoint:
{"input_size": 256, "input_channels": 1, "channels": [32, 32, 64, 64, 64], "kernel_size": 5,
 "padding": "valid", "num_classes": 3, "batch_norm_eps": 1e-05, "batch_norm_momentum": 0.1}
"""
import torch
from torch import nn

AUTHORS_5X5_VALID = {"input_size": 256, "input_channels": 1, "channels": [32, 32, 64, 64, 64],
                     "kernel_size": 5, "padding": "valid", "num_classes": 3,
                     "batch_norm_eps": 1e-5, "batch_norm_momentum": 0.1}
SAME_3X3 = dict(AUTHORS_5X5_VALID, kernel_size=3, padding="same")


def spatial_sizes(config):
    """[(after conv, after pool)] per block, e.g. 256 -> [(252, 126), (122, 61), ...] for 5x5 valid."""
    size, k = config["input_size"], config["kernel_size"]
    pad = k // 2 if config["padding"] == "same" else 0
    sizes = []
    for _ in config["channels"]:
        conv = size + 2 * pad - k + 1
        if conv < 2:
            raise ValueError(f"input_size {config['input_size']} too small for {len(config['channels'])} blocks of kernel {k}")
        size = conv // 2
        sizes.append((conv, size))
    return sizes


class PaperCNN(nn.Module):
    def __init__(self, config):
        super().__init__()
        if config["padding"] not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid', got {config['padding']!r}")
        k = config["kernel_size"]
        pad = k // 2 if config["padding"] == "same" else 0
        layers, channels = [], config.get("input_channels", 1)
        for out in config["channels"]:
            layers += [nn.Conv2d(channels, out, k, stride=1, padding=pad),
                       nn.BatchNorm2d(out, eps=config.get("batch_norm_eps", 1e-5),
                                      momentum=config.get("batch_norm_momentum", 0.1)),
                       nn.ReLU(),
                       nn.MaxPool2d(2)]
            channels = out
        self.features = nn.Sequential(*layers)
        final = spatial_sizes(config)[-1][1]
        self.feature_count = channels * final * final
        self.classifier = nn.Linear(self.feature_count, config.get("num_classes", 3))

    def penultimate(self, x):
        """x: [N, C, H, W] -> h(x): [N, features], the flattened output of `features`."""
        return torch.flatten(self.features(x), 1)

    def forward(self, x):
        return self.classifier(self.penultimate(x))

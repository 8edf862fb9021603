#!/usr/bin/env python3
"""Naive training of the paper's CNN in PyTorch, epoch by epoch, beside `robust-mri train --method naive`.

Question it answers: does PyTorch, trained the way RobustMRI trains (same data, split rule, noise, model,
optimiser, batch, flips), show the same epoch-to-epoch swings of the evaluation accuracy (BatchNorm in
evaluation mode) that our Swift trainer shows at Adam lr 0.01? If yes, the swings are the lr / BatchNorm
behaviour; if PyTorch is steady, our multi-epoch training has a bug.

Pipeline (PAPER.md "Data", "Noise", "Model"):
  - images: the figshare JPEG copy (manifest.csv), each x / max(x), padded to a centred square, shrunk to
    S x S by area averaging, quantised to multiples of 1/255 (`--source jpg`, needs Pillow); or our own
    decoded cache file `--source cache --cache FILE.rmri` (the same preprocessing, done by RobustMRI).
    `--check-cache FILE.rmri` compares the two and exits.
  - split: test = `--test-fold`; validation from the other folds: whole patients (4 meningioma, 5 glioma,
    3 pituitary) when the manifest has a `patient` column, else a class-stratified `--validation-fraction`
    (5 %) of the images, as RobustMRI does for this copy (it has no patient IDs); seeded numpy draw.
  - noise: x + N(0, sigma/255) on every training image, clipped to [0, 1], drawn once per image from
    numpy stream (seed, image id); validation clean; the test set evaluated clean (rho 0) and with every
    image noisy (rho 1, the same noise every epoch).
  - model: tools/paper_cnn.py PaperCNN, SAME_3X3 at input_size S; PyTorch's default initialisation.
  - training: Adam (`--lr`, default 0.01), batch 32, reshuffled every epoch, random horizontal flip p = 0.5,
    mean cross-entropy, `--epochs` (20); torch.manual_seed(seed), torch.set_num_threads(`--threads`).
    Evaluation: model.eval() (BatchNorm running statistics), batches of 256.
  - `--precise-bn`: also evaluate a copy whose BatchNorm statistics are re-estimated over the whole (noisy,
    unflipped) training set (cumulative average, no momentum): tells whether swings come from the running
    statistics lagging behind the weights.

Output: one JSON line per epoch (epoch, train_loss, train_acc, val_acc, test_acc_rho0, test_acc_rho1,
seconds[, val_acc_precise_bn, test_acc_rho0_precise_bn]) then a summary line: mean and max
|test_acc_rho0(e) - test_acc_rho0(e-1)| over consecutive epochs 5..20 (also for test_acc_rho1 and val_acc),
and the last epoch's accuracies. `--summarise FILE` prints the same summary for a RobustMRI run's
metrics.jsonl (after its per-epoch rows in this script's keys) or for this script's saved output.

Usage:
  nice -n 19 python3 tools/torch_side_by_side.py --data /work/shared/data/figshare-jpg --seed 1 --lr 0.01
  python3 tools/torch_side_by_side.py --summarise /tmp/sbs/ours-1-0.01/metrics.jsonl
"""
import argparse
import copy
import csv
import hashlib
import json
import os
import struct
import sys
import time

import numpy as np

from paper_cnn import SAME_3X3, PaperCNN

CLASS_NAMES = ("meningioma", "glioma", "pituitary")


# ---------------------------------------------------------------------------------------------- data

def area_weights(source, target):
    """[target, source] matrix of area-averaging weights: output o averages source [o f, (o + 1) f), f = source / target."""
    if target > source:
        raise ValueError(f"area averaging only shrinks: {source} -> {target}")
    scale = source / target
    weights = np.zeros((target, source))
    for o in range(target):
        lo, hi = o * scale, (o + 1) * scale
        for s in range(int(np.floor(lo)), min(source, int(np.ceil(hi)))):
            weights[o, s] = (min(hi, s + 1) - max(lo, s)) / scale
    return weights


def preprocessed(pixels, size):
    """Authors' preprocessing of one greyscale image (any scale) -> [size, size] float32 in [0, 1], multiples of 1/255."""
    x = np.maximum(pixels.astype(np.float64), 0)
    peak = x.max()
    x = x / peak if peak > 0 else np.zeros_like(x)
    h, w = x.shape
    if h != w:  # centre on a zero square
        side = max(h, w)
        square = np.zeros((side, side))
        top, left = (side - h) // 2, (side - w) // 2
        square[top:top + h, left:left + w] = x
        x = square
    weights = area_weights(x.shape[0], size)
    x = weights @ x @ weights.T
    return (np.round(x * 255) / 255).astype(np.float32)


def read_manifest(folder):
    with open(os.path.join(folder, "manifest.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        "ids": np.array([int(r["id"]) for r in rows]),
        "labels": np.array([int(r["label"]) - 1 for r in rows]),  # figshare 1..3 -> 0..2
        "folds": np.array([int(r["fold"]) for r in rows]),
        "patients": [r["patient"] for r in rows] if rows and "patient" in rows[0] else None,
        "files": [os.path.join(folder, r["file"]) for r in rows],
    }


def load_jpg(folder, size):
    """The manifest's images decoded with Pillow and preprocessed; cached as .npz in /tmp (keyed by folder, size)."""
    meta = read_manifest(folder)
    key = hashlib.sha1(os.path.abspath(folder).encode()).hexdigest()[:12]
    cache = f"/tmp/torch_sbs_{key}_{size}.npz"
    if os.path.exists(cache):
        images = np.load(cache)["images"]
        if images.shape[0] == len(meta["files"]):
            meta["images"] = images
            return meta
    from PIL import Image
    images = np.empty((len(meta["files"]), size, size), np.float32)
    for k, path in enumerate(meta["files"]):
        with Image.open(path) as im:
            images[k] = preprocessed(np.asarray(im.convert("L")), size)
    np.savez(cache, images=images)
    meta["images"] = images
    return meta


def load_cache(path):
    """A RobustMRI dataset cache (Sources/MRIData/DatasetCache.swift): little-endian
    "RMRICACH" | UInt32 version | UInt64 header length | JSON header | N*S*S image bytes round(255 x) | masks | UInt64."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"RMRICACH":
        raise ValueError(f"{path}: not a RobustMRI cache file")
    version, header_length = struct.unpack("<IQ", blob[8:20])
    if version != 1:
        raise ValueError(f"{path}: cache format {version}, this script reads 1")
    header = json.loads(blob[20:20 + header_length])
    n, s = header["count"], header["imageSize"]
    start = 20 + header_length
    images = np.frombuffer(blob, np.uint8, n * s * s, start).reshape(n, s, s).astype(np.float32) / 255
    return {"ids": np.array(header["sourceIDs"]), "labels": np.array(header["labels"]),  # already 0..2
            "folds": np.array(header["folds"]), "patients": header.get("patientIDs"), "images": images}


def split(meta, test_fold, validation_fraction, patients_per_class, seed):
    """(train, validation, test) index arrays; validation = whole patients when known, else a stratified fraction."""
    folds, labels = meta["folds"], meta["labels"]
    test = np.flatnonzero(folds == test_fold)
    if len(test) == 0:
        raise ValueError(f"no image in test fold {test_fold} (folds present: {sorted(set(folds.tolist()))})")
    pool = np.flatnonzero(folds != test_fold)
    rng = np.random.default_rng([seed, 2])
    validation = []
    for label in range(len(CLASS_NAMES)):
        members = pool[labels[pool] == label]
        if meta["patients"] is not None:
            groups = {}
            for i in members:
                groups.setdefault(meta["patients"][i], []).append(i)
            groups = list(groups.values())
            take = patients_per_class[label]
        else:
            groups = [[i] for i in members]
            take = int(round(len(groups) * validation_fraction))
        take = min(take, max(0, len(groups) - 1))
        for g in rng.permutation(len(groups))[:take]:
            validation += groups[g]
    validation = np.array(sorted(validation), dtype=int)
    train = np.setdiff1d(pool, validation)
    return train, validation, test


def noisy(images, ids, sigma, seed):
    """Each image + N(0, sigma / 255) from numpy stream (seed, id), clipped to [0, 1]."""
    out = np.empty_like(images)
    for k, (image, source_id) in enumerate(zip(images, ids)):
        rng = np.random.default_rng([seed, int(source_id)])
        out[k] = np.clip(image + rng.standard_normal(image.shape) * (sigma / 255), 0, 1)
    return out


# ----------------------------------------------------------------------------------------- training

def accuracy(model, images, labels, batch=256):
    import torch
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch):
            logits = model(images[start:start + batch])
            correct += int((logits.argmax(1) == labels[start:start + batch]).sum())
    return correct / len(images)


def precise_bn_copy(model, images, batch=256):
    """A copy of `model` whose BatchNorm running statistics are the cumulative average over `images` (train mode)."""
    import torch
    clone = copy.deepcopy(model)
    for m in clone.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average
    clone.train()
    with torch.no_grad():
        for start in range(0, len(images), batch):
            clone(images[start:start + batch])
    return clone


def swings(rows, key, first=5):
    """(mean, max) |rows[e][key] - rows[e - 1][key]| over consecutive epochs first..last (None if fewer than two)."""
    by_epoch = {r["epoch"]: r for r in rows if r.get(key) is not None}
    epochs = [e for e in sorted(by_epoch) if e >= first]
    changes = [abs(by_epoch[b][key] - by_epoch[a][key]) for a, b in zip(epochs, epochs[1:])]
    return (float(np.mean(changes)), float(np.max(changes))) if changes else (None, None)


def summary(rows, first=5):
    """Swings of the evaluation accuracies over epochs first..last, and the last epoch's accuracies.

    Headline: test_acc_rho0 (clean test images). The same for the validation set (clean) and for
    test_acc_rho1 (every test image noisy, like the training images) separate a shift between clean and
    noisy images from plain instability."""
    last = max(rows, key=lambda r: r["epoch"])
    out = {"summary": True, "epochs": last["epoch"], "swing_epochs": f"{first}..{last['epoch']}"}
    out["mean_abs_change_test_acc_rho0"], out["max_abs_change_test_acc_rho0"] = swings(rows, "test_acc_rho0", first)
    for key in ("test_acc_rho1", "val_acc", "test_acc_rho0_precise_bn"):
        if key in last:
            out["mean_abs_change_" + key], out["max_abs_change_" + key] = swings(rows, key, first)
    for key in ("train_acc", "val_acc", "test_acc_rho0", "test_acc_rho1", "test_acc_rho0_precise_bn"):
        if key in last:
            out["last_" + key] = last[key]
    out["total_seconds"] = sum(r.get("seconds", 0) for r in rows)
    return out


def summarise(path):
    """A RobustMRI metrics.jsonl (rows printed in this script's keys) or this script's own output -> the summary."""
    rows, own = [], False
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            m = json.loads(line)
            if "test_acc_rho0" in m or "summary" in m or "data" in m:  # this script's output
                own = True
                if "epoch" in m and "summary" not in m:
                    rows.append(m)
                continue
            tests = {t["rho"]: t["evaluation"]["accuracy"] for t in m["test"]}
            rows.append({"epoch": m["epoch"], "train_loss": m["trainLoss"], "train_acc": m["trainAccuracy"],
                         "val_acc": m["validation"]["accuracy"], "test_acc_rho0": tests.get(0.0),
                         "test_acc_rho1": tests.get(1.0), "seconds": m["seconds"]})
    if not own:
        for r in rows:
            print(json.dumps(r))
    print(json.dumps(summary(rows)))


def train(args):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    meta = load_cache(args.cache) if args.source == "cache" else load_jpg(args.data, args.image_size)
    size = meta["images"].shape[1]
    train_idx, val_idx, test_idx = split(meta, args.test_fold, args.validation_fraction,
                                         args.validation_patients, args.split_seed)
    counts = lambda idx: [int((meta["labels"][idx] == c).sum()) for c in range(3)]
    print(json.dumps({"data": args.cache if args.source == "cache" else args.data, "image_size": size,
                      "train": counts(train_idx), "validation": counts(val_idx), "test": counts(test_idx),
                      "seed": args.seed, "lr": args.lr, "threads": args.threads, "torch": torch.__version__}),
          flush=True)

    images, ids, labels = meta["images"], meta["ids"], meta["labels"]
    tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a)).unsqueeze(1)  # [N, 1, S, S]
    x_train = tensor(noisy(images[train_idx], ids[train_idx], args.sigma, args.seed))
    y_train = torch.from_numpy(labels[train_idx]).long()
    x_val, y_val = tensor(images[val_idx]), torch.from_numpy(labels[val_idx]).long()
    x_test0 = tensor(images[test_idx])
    x_test1 = tensor(noisy(images[test_idx], ids[test_idx], args.sigma, args.seed))
    y_test = torch.from_numpy(labels[test_idx]).long()

    torch.manual_seed(args.seed)
    model = PaperCNN(dict(SAME_3X3, input_size=size))
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    rows = []
    n = len(x_train)
    for epoch in range(1, args.epochs + 1):
        started = time.time()
        rng = np.random.default_rng([args.seed, 1000 + epoch])
        order = torch.from_numpy(rng.permutation(n))
        model.train()
        loss_sum, correct = 0.0, 0
        for start in range(0, n, args.batch):
            batch = order[start:start + args.batch]
            x, y = x_train[batch].clone(), y_train[batch]
            if args.flip:
                flips = torch.from_numpy(rng.random(len(batch)) < 0.5)
                x[flips] = x[flips].flip(-1)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            loss_sum += loss.item() * len(batch)
            correct += int((logits.argmax(1) == y).sum())
        row = {"epoch": epoch, "train_loss": loss_sum / n, "train_acc": correct / n,
               "val_acc": accuracy(model, x_val, y_val),
               "test_acc_rho0": accuracy(model, x_test0, y_test),
               "test_acc_rho1": accuracy(model, x_test1, y_test)}
        if args.precise_bn:
            precise = precise_bn_copy(model, x_train)
            row["val_acc_precise_bn"] = accuracy(precise, x_val, y_val)
            row["test_acc_rho0_precise_bn"] = accuracy(precise, x_test0, y_test)
        row["seconds"] = time.time() - started
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps(summary(rows)), flush=True)


def check_cache(args):
    """Max |difference| between this script's JPEG preprocessing and RobustMRI's cache, per image, in 1/255 steps."""
    ours = load_cache(args.check_cache)
    mine = load_jpg(args.data, ours["images"].shape[1])
    position = {int(i): k for k, i in enumerate(mine["ids"])}
    order = [position[int(i)] for i in ours["ids"]]
    diff = np.abs(mine["images"][order] - ours["images"]) * 255
    per_image = diff.reshape(len(diff), -1).max(1)
    print(json.dumps({"images": len(diff), "labels_equal": bool((mine["labels"][order] == ours["labels"]).all()),
                      "folds_equal": bool((mine["folds"][order] == ours["folds"]).all()),
                      "max_diff_steps": float(diff.max()), "mean_diff_steps": float(diff.mean()),
                      "images_identical": int((per_image < 0.5).sum()),
                      "images_off_by_more_than_1": int((per_image > 1.5).sum())}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/work/shared/data/figshare-jpg")
    p.add_argument("--source", choices=("jpg", "cache"), default="jpg")
    p.add_argument("--cache", help="RobustMRI .rmri cache file (with --source cache)")
    p.add_argument("--check-cache", metavar="RMRI", help="compare the JPEG preprocessing with this cache and exit")
    p.add_argument("--summarise", metavar="JSONL", help="summarise a RobustMRI metrics.jsonl (or this script's output) and exit")
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--test-fold", type=int, default=5)
    p.add_argument("--validation-fraction", type=float, default=0.05)
    p.add_argument("--validation-patients", type=int, nargs=3, default=[4, 5, 3])
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--sigma", type=float, default=32)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-flip", dest="flip", action="store_false")
    p.add_argument("--precise-bn", action="store_true")
    args = p.parse_args()
    if args.summarise:
        summarise(args.summarise)
    elif args.check_cache:
        check_cache(args)
    else:
        if args.source == "cache" and not args.cache:
            p.error("--source cache needs --cache FILE.rmri")
        train(args)


if __name__ == "__main__":
    sys.exit(main())

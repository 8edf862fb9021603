#!/usr/bin/env python3
"""Times the influence steps the way the paper's authors computed them, in PyTorch on the CPU, for
comparison with `robust-mri influence --bench` (same sizes: n training + m validation images at 256 px,
the authors' CNN freshly initialised; timings do not depend on training or on the pixel values).

  - features h(x) of every image (eval mode, batches of 32, no grad);
  - LiSSA as the authors ran it: h <- v + (1 - damp) h - (H_batch h) / scale, Hessian-vector products by
    double backward through the last layer's mean loss on mini-batches of 10 features drawn with
    replacement, n / 10 steps, damp 0.05, scale 50; s = h / scale;
  - Eq. 7 the authors' way: one backward per training point for grad_theta L(z_i), score = -s . grad;
  - Eq. 8 for every training point: grad_x (s . grad_theta L(z)) by double backward through the whole CNN
    (eval mode, batches of 32; the sum over a batch separates per image because BatchNorm is in eval mode);
  - one training epoch, estimated from 3 timed batches of 32 (forward + backward + Adam).

Usage: python3 tools/influence_torch.py [--n 2300] [--val 150] [--size 256] [--threads 2]
"""
import argparse
import time

import torch
import torch.nn.functional as F

from paper_cnn import AUTHORS_5X5_VALID, PaperCNN


def timed(label, fn, results):
    start = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - start
    print(f"  {label:<38} {results[label]:8.2f} s", flush=True)
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2300)
    parser.add_argument("--val", type=int, default=150)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    n, m, b = args.n, args.val, args.batch
    train_x = torch.rand(n, 1, args.size, args.size)
    train_y = torch.randint(0, 3, (n,))
    val_x = torch.rand(m, 1, args.size, args.size)
    val_y = torch.randint(0, 3, (m,))
    model = PaperCNN(dict(AUTHORS_5X5_VALID, input_size=args.size))
    model.eval()
    params = [model.classifier.weight, model.classifier.bias]
    results = {}
    print(f"PyTorch {torch.__version__}, {args.threads} threads, n {n} + {m} validation images at {args.size} px")

    def features(x):
        with torch.no_grad():
            return torch.cat([model.penultimate(x[i:i + b]) for i in range(0, len(x), b)])

    train_h = timed("features (eval mode, all images)", lambda: (features(train_x), features(val_x)), results)
    train_h, val_h = train_h

    def lissa():
        val_loss = F.cross_entropy(model.classifier(val_h), val_y)
        v = torch.autograd.grad(val_loss, params)
        h = [t.clone() for t in v]
        damp, scale = 0.05, 50.0
        generator = torch.Generator().manual_seed(0)
        for _ in range(max(1, n // 10)):
            idx = torch.randint(0, n, (10,), generator=generator)
            loss = F.cross_entropy(model.classifier(train_h[idx]), train_y[idx])
            grads = torch.autograd.grad(loss, params, create_graph=True)
            hv = torch.autograd.grad(sum((g * e).sum() for g, e in zip(grads, h)), params)
            h = [v_ + (1 - damp) * h_ - hv_ / scale for v_, h_, hv_ in zip(v, h, hv)]
        return [h_.detach() / scale for h_ in h]

    s = timed("LiSSA s = H^-1 grad L(V) (authors)", lissa, results)

    def scores():
        out = torch.empty(n)
        for i in range(n):
            loss = F.cross_entropy(model.classifier(train_h[i:i + 1]), train_y[i:i + 1])
            g = torch.autograd.grad(loss, params)
            out[i] = -sum((gi * si).sum() for gi, si in zip(g, s))
        return out

    timed("Eq. 7 scores, one backward per point", scores, results)

    def perturbations():
        total = 0.0
        for i in range(0, n, b):
            x = train_x[i:i + b].clone().requires_grad_(True)
            loss = F.cross_entropy(model(x), train_y[i:i + b], reduction="sum")
            g = torch.autograd.grad(loss, params, create_graph=True)
            f = sum((gi * si).sum() for gi, si in zip(g, s))
            (gx,) = torch.autograd.grad(f, x)
            total += float(gx[0].abs().sum())
        return total

    timed("Eq. 8 perturbations, all points", perturbations, results)

    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

    def step(i):
        optimizer.zero_grad()
        F.cross_entropy(model(train_x[i:i + b]), train_y[i:i + b]).backward()
        optimizer.step()

    step(0)
    start = time.perf_counter()
    for k in range(3):
        step(b * (k + 1))
    per_batch = (time.perf_counter() - start) / 3
    print(f"  {'one training epoch (estimated)':<38} {per_batch * ((n + b - 1) // b):8.2f} s ({1000 * per_batch:.0f} ms per batch of {b})")


if __name__ == "__main__":
    main()

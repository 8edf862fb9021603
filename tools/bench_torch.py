#!/usr/bin/env python3
"""PyTorch CPU speed of the paper's CNN, for a side-by-side with RobustMRI's Swift implementation.

For each variant (authors' 5x5 'valid', 3x3 'same'; channels 1-32-32-64-64-64, 3 classes), image size
and thread count, one fresh subprocess measures:
  - training: forward + backward + Adam step (lr 0.01) on a batch of `--batch` (default 32) images;
  - inference: forward in evaluation mode under torch.no_grad() on the same batch size;
  - peak resident memory of that subprocess (ru_maxrss, MiB).
Each phase runs `--warmup` untimed iterations then `--iterations` timed ones (median seconds per
iteration is turned into images/s). Prints one JSON object per configuration (JSON lines) with keys
variant, image_size, threads, batch, train_images_per_s, infer_images_per_s, peak_rss_mib,
torch_version (and the raw timings). The machine's load matters: note `uptime` beside the figures.
The authors' five 5x5 'valid' blocks need inputs of at least 156 px: smaller sizes print a row with
`skipped` and the reason instead of figures.

Usage: python3 tools/bench_torch.py [--sizes 64 128 256] [--threads 1 2] [--warmup 2] [--iterations 5]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from paper_cnn import AUTHORS_5X5_VALID, SAME_3X3, spatial_sizes

VARIANTS = ("authors-5x5-valid", "3x3-same")


def run_one(variant, size, threads, batch, warmup, iterations):
    import torch
    import torch.nn.functional as F
    from paper_cnn import PaperCNN

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    config = dict(AUTHORS_5X5_VALID if variant == "authors-5x5-valid" else SAME_3X3, input_size=size)
    model = PaperCNN(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x = torch.rand(batch, 1, size, size)
    y = torch.randint(0, 3, (batch,))

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    def infer_step():
        with torch.no_grad():
            model(x)

    def timed(step, train):
        model.train(train)
        for _ in range(warmup):
            step()
        seconds = []
        for _ in range(iterations):
            start = time.perf_counter()
            step()
            seconds.append(time.perf_counter() - start)
        return seconds

    train_seconds = timed(train_step, True)
    infer_seconds = timed(infer_step, False)
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mib = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
    return {"variant": variant, "image_size": size, "threads": threads, "batch": batch,
            "train_images_per_s": round(batch / statistics.median(train_seconds), 2),
            "infer_images_per_s": round(batch / statistics.median(infer_seconds), 2),
            "peak_rss_mib": round(rss_mib, 1), "torch_version": torch.__version__,
            "warmup": warmup, "iterations": iterations,
            "train_seconds": [round(s, 4) for s in train_seconds],
            "infer_seconds": [round(s, 4) for s in infer_seconds]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--sizes", nargs="+", type=int, default=[64, 128, 256])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()

    if args.one:
        try:
            spatial_sizes(dict(AUTHORS_5X5_VALID if args.variants[0] == "authors-5x5-valid" else SAME_3X3,
                               input_size=args.sizes[0]))
        except ValueError as error:  # e.g. five 5x5 'valid' blocks need at least 156 px
            print(json.dumps({"variant": args.variants[0], "image_size": args.sizes[0],
                              "threads": args.threads[0], "skipped": str(error)}))
            return
        result = run_one(args.variants[0], args.sizes[0], args.threads[0], args.batch, args.warmup, args.iterations)
        print(json.dumps(result))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for variant in args.variants:
        for size in args.sizes:
            for threads in args.threads:
                env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
                command = [sys.executable, os.path.abspath(__file__), "--one", "--variants", variant,
                           "--sizes", str(size), "--threads", str(threads), "--batch", str(args.batch),
                           "--warmup", str(args.warmup), "--iterations", str(args.iterations)]
                done = subprocess.run(command, env=env, cwd=here, capture_output=True, text=True)
                if done.returncode != 0:
                    print(json.dumps({"variant": variant, "image_size": size, "threads": threads,
                                      "error": done.stderr.strip().splitlines()[-1:]}), flush=True)
                else:
                    print(done.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()

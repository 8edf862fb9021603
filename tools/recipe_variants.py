#!/usr/bin/env python3
"""Per recipe variant (compare --evaluate-recipe-variants): the last epoch's test accuracy and its range over the
last five epochs, for every finished run of a comparison folder.

Usage: python3 tools/recipe_variants.py OUT_FOLDER
"""
import json, glob, sys, statistics as st
# For each run: per variant, test accuracy at rho 0 and 1 over the last 5 epochs (range) and at the last epoch.
rows = {}
for path in sorted(glob.glob(sys.argv[1] + '/runs/*/metrics.jsonl')):
    run = path.split('/')[-2]
    epochs = [json.loads(l) for l in open(path)]
    if len(epochs) < 20: continue
    def series(fn):
        return [fn(m) for m in epochs]
    variants = {}
    variants['ema+precise (headline)'] = series(lambda m: {t['rho']: t['evaluation']['accuracy'] for t in m['test']})
    variants['ema+precise, clean share adapted'] = series(lambda m: {t['rho']: t['evaluation']['accuracy'] for t in m['adaptedTest']})
    names = [v['name'] for v in epochs[-1].get('variants', [])]
    for n in names:
        variants[n] = series(lambda m, n=n: {t['rho']: t['evaluation']['accuracy'] for v in m.get('variants', []) if v['name'] == n for t in v['test']})
    print(f"== {run}: validation (ema+precise) last 5: {[round(100*m['validation']['accuracy'],1) for m in epochs[-5:]]}")
    for name, s in variants.items():
        for rho in (0.0, 1.0):
            last5 = [100 * e[rho] for e in s[-5:] if rho in e]
            if len(last5) < 5: continue
            print(f"   {name:34s} rho {rho:.0f}: last {last5[-1]:5.1f}  range over last 5 {max(last5)-min(last5):4.1f}  ({' '.join(f'{x:.1f}' for x in last5)})")

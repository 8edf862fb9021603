#!/usr/bin/env python3
"""Add one seed's runs to a Table 1 that is known only by its summary statistics.

Why: the stable recipe's Table 1 (README, issue "Trustworthy numbers") ran seeds 1-4 on one machine; their
per-run files went with it, and seed 5 ran on another. A mean, a sample std and a paired t-test are functions of
(n, mean, std) alone, so the five-seed figures follow exactly from the README's four-seed ones and seed 5's
values, up to the README's rounding (0.05 points on means and stds, 0.005 on paired differences):

    mean_5 = (4 mean_4 + x) / 5
    SS_5   = 3 std_4^2 + (4/5) (x - mean_4)^2,   std_5 = sqrt(SS_5 / 4)

The paired rows use the same update on the differences (method - naive, same seed), then the two-sided paired
t-test (df = 4) and the seeds a paired t-test needs at power 0.8, alpha 0.05 (noncentral t, as
Sources/Experiments/Results/SampleSize.swift). The sign-flip test needs every difference and is not formed.

Usage:
    python3 tools/combine_seeds.py docs/results/table1-stable/seeds1-4.md docs/results/table1-stable/seed5/table.json
    python3 tools/combine_seeds.py docs/results/table1-stable/seeds1-4.md --check   # re-derive the 4-seed p, seeds needed

The first file is any markdown holding the four-seed tables (headed "| seeds 1-4 |" and "| against naive, 4 pairs |");
the second is `compare`'s table.json of the added seed's grid.

Reference-only (scipy); the product never needs it.
"""
import json
import math
import re
import sys

from scipy import stats

METHODS = ["naive", "ISR", "ISP", "AT (FGSM, 8/255)", "N2V-Training"]
TOOL_METHOD = {"naive": "naive", "ISR": "isr", "ISP": "isp", "AT (FGSM, 8/255)": "at", "N2V-Training": "n2v"}
# Column order of both README tables.
COLUMNS = [("gaussian", 0.0), ("gaussian", 0.5), ("gaussian", 1.0), ("gaussian", "adapted"),
           ("rician", 0.0), ("rician", 0.5), ("rician", 1.0), ("rician", "adapted")]
PAIRED_COLUMNS = [c for c in COLUMNS if c[1] != "adapted"]


def readme_tables(path):
    """From a markdown file, the four-seed main table {(method, column): (mean, std, range)} and paired table {(method, column): (d, sd)}."""
    text = open(path, encoding="utf-8").read()
    main, paired = {}, {}
    main_rx = re.compile(r"([\d.]+) ± ([\d.]+)(?: \(([\d.]+)\))?")
    paired_rx = re.compile(r"\**([+-][\d.]+)\** \(sd ([\d.]+), p [\d.]+, \d+\)")
    section = None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("| seeds 1-4 |"):
            section = "main"
            continue
        if s.startswith("| against naive, 4 pairs |"):
            section = "paired"
            continue
        if not s.startswith("|"):
            section = None
            continue
        cells = [c.strip() for c in s.strip("|").split("|")]
        if cells[0] not in METHODS:
            continue
        if section == "main":
            for column, cell in zip(COLUMNS, cells[1:]):
                m = main_rx.fullmatch(cell)
                main[(cells[0], column)] = (float(m[1]), float(m[2]), float(m[3]) if m[3] else None)
        elif section == "paired":
            for column, cell in zip(PAIRED_COLUMNS, cells[1:]):
                m = paired_rx.fullmatch(cell)
                paired[(cells[0], column)] = (float(m[1]), float(m[2]))
    assert len(main) == 40 and len(paired) == 24, f"README tables not found whole: {len(main)} / {len(paired)} cells"
    return main, paired


def seed_values(path, seed):
    """Seed's last-epoch accuracy, last-epochs range and adapted accuracy per (method, column), in percent."""
    table = json.load(open(path, encoding="utf-8"))
    rows = table["rows"] if isinstance(table, dict) else table
    out = {}
    for row in rows:
        method = next(k for k, v in TOOL_METHOD.items() if v == row["method"])
        def at(stat):
            i = stat["seeds"].index(seed)
            return stat["values"][i]
        scale = 100.0 if row["lastEpochAccuracy"]["mean"] <= 1.0 else 1.0
        rng = at(row["lastEpochsRange"]) * scale
        out[(method, (row["noise"], row["rho"]))] = (at(row["lastEpochAccuracy"]) * scale, rng)
        if row["rho"] == 0.0 and row.get("adaptedLastEpochAccuracy"):
            out[(method, (row["noise"], "adapted"))] = (at(row["adaptedLastEpochAccuracy"]) * scale, None)
    return out


def add_one(n, mean, std, x):
    new_mean = (n * mean + x) / (n + 1)
    ss = (n - 1) * std * std + n / (n + 1) * (x - mean) ** 2
    return new_mean, math.sqrt(ss / n)


def paired_test(n, d, sd):
    if sd == 0:
        return None
    t = d / (sd / math.sqrt(n))
    return 2 * stats.t.sf(abs(t), n - 1)


def pairs_needed(effect, power=0.8, alpha=0.05, limit=10_000):
    if effect == 0 or not math.isfinite(effect):
        return None
    def achieved(n):
        df = n - 1
        c = stats.t.isf(alpha / 2, df)
        delta = abs(effect) * math.sqrt(n)
        power_n = stats.nct.sf(c, df, delta) + stats.nct.cdf(-c, df, delta)
        return 1.0 if math.isnan(power_n) else power_n  # scipy's nct gives nan far in the tail, where power is 1
    # Power grows with n: double until it is reached, then bisect.
    low, high = 1, 2
    while achieved(high) < power:
        if high >= limit:
            return None
        low, high = high, min(2 * high, limit)
    while high - low > 1:
        mid = (low + high) // 2
        if achieved(mid) >= power:
            high = mid
        else:
            low = mid
    return high


def check(readme):
    """The README's 4-seed p and seeds needed, re-derived from its (d, sd): validates this script's arithmetic."""
    text = open(readme, encoding="utf-8").read()
    rx = re.compile(r"\**([+-][\d.]+)\** \(sd ([\d.]+), p ([\d.]+), (\d+)\)")
    worst_p = 0.0
    mismatched = []
    for d, sd, p, needed in rx.findall(text):
        d, sd, p, needed = float(d), float(sd), float(p), int(needed)
        mine_p = paired_test(4, d, sd)
        mine_n = pairs_needed(d / sd)
        worst_p = max(worst_p, abs(mine_p - p))
        if mine_n != needed:
            mismatched.append((d, sd, needed, mine_n))
    print(f"largest |p - stored p| {worst_p:.4f} (the tables round d and sd to 0.01 and p to 0.001)")
    print("seeds needed differing (small effects, where the rounding of d / sd moves the count):", mismatched or "none")


def main():
    readme = sys.argv[1]
    if sys.argv[2] == "--check":
        check(readme)
        return
    main4, paired4 = readme_tables(readme)
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    x = seed_values(sys.argv[2], seed)
    print(f"| seeds 1-{seed} | Gaussian ρ = 0 | ρ = 0.5 | ρ = 1 | ρ = 0 adapted | Rician ρ = 0 | ρ = 0.5 | ρ = 1 | ρ = 0 adapted |")
    print("|---|---|---|---|---|---|---|---|---|")
    for method in METHODS:
        cells = []
        for column in COLUMNS:
            mean, std, rng = main4[(method, column)]
            value, rng5 = x[(method, column)]
            m, s = add_one(4, mean, std, value)
            cell = f"{m:.1f} ± {s:.1f}"
            if rng is not None:
                cell += f" ({(4 * rng + rng5) / 5:.1f})"
            cells.append(cell)
        print(f"| {method} | " + " | ".join(cells) + " |")
    print()
    print(f"seed {seed} alone (last-epoch test accuracy %, in brackets its range over the last five epochs):")
    print()
    print(f"| seed {seed} | Gaussian ρ = 0 | ρ = 0.5 | ρ = 1 | ρ = 0 adapted | Rician ρ = 0 | ρ = 0.5 | ρ = 1 | ρ = 0 adapted |")
    print("|---|" + "---|" * len(COLUMNS))
    for method in METHODS:
        cells = []
        for column in COLUMNS:
            value, rng5 = x[(method, column)]
            cells.append(f"{value:.1f}" + (f" ({rng5:.1f})" if rng5 is not None else ""))
        print(f"| {method} | " + " | ".join(cells) + " |")
    print()
    print(f"| against naive, {seed} pairs | Gaussian ρ = 0 | ρ = 0.5 | ρ = 1 | Rician ρ = 0 | ρ = 0.5 | ρ = 1 |")
    print("|---|---|---|---|---|---|---|")
    for method in METHODS[1:]:
        cells = []
        for column in PAIRED_COLUMNS:
            d4, sd4 = paired4[(method, column)]
            diff = x[(method, column)][0] - x[("naive", column)][0]
            d, sd = add_one(4, d4, sd4, diff)
            p = paired_test(5, d, sd)
            needed = pairs_needed(d / sd)
            text = f"{d:+.2f}"
            if p is not None and p < 0.05:
                text = f"**{text}**"
            cells.append(f"{text} (sd {sd:.2f}, p {p:.3f}, {needed if needed else '>10000'}; seed {seed} {diff:+.1f})")
        print(f"| {method} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

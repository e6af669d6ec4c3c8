#!/usr/bin/env python3
"""Synced commits per node per sequential payment (whole cycles: writes after the answer included) from
paymesh-bench routed trace logs. usage: routed_commits.py ROOT BENCH_STDERR (see routed_stages.py)."""
import sys, re
root, bench = sys.argv[1], sys.argv[2]
ev = []
for i in range(4):
    for line in open(f"{root}/n{i}.log", errors="replace"):
        m = re.match(r"TRACE (\d+) (\d+) (.*)", line.strip())
        if m: ev.append((int(m[1]), f"n{i}", m[3]))
calls, answers = [], []
for line in open(bench, errors="replace"):
    m = re.match(r"TRACE (\d+) (\d+) (.*)", line.strip())
    if m: (calls if m[3] == "client.call" else answers).append(int(m[1]))
k = 0
while k + 1 < len(calls) and calls[k + 1] > answers[k]: k += 1
a, b = calls[20], calls[k]  # sequential payments 20..k-1 (whole cycles, writes after the answer included)
n = k - 20
for node in ["n0", "n1", "n2", "n3"]:
    c = sum(1 for t, nd, l in ev if nd == node and a <= t < b and l.startswith("commit "))
    print(node, f"{c / n:.2f} commits per payment")
print("payments", n)

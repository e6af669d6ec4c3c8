#!/usr/bin/env python3
"""Writes Specs/vectors/amounts.json: amounts for people (Specs/README.md, "Amounts for people"),
computed here with Python's integers and strings only, independently of the Swift code."""
import json, random, sys

MAX = 2**128 - 1

def text(atomic, d, grouping=False):
    s = str(atomic)
    if len(s) > d:
        whole, frac = s[:len(s) - d], s[len(s) - d:]
    else:
        whole, frac = "0", "0" * (d - len(s)) + s
    frac = frac.rstrip("0")
    if grouping:
        whole = "{:,}".format(int(whole))
    return whole + ("." + frac if frac else "")

rng = random.Random(12)
cases = []
for d in [0, 1, 2, 6, 8, 18, 36]:
    values = [0, 1, 10**d, 103533, 99999988000, MAX] + [rng.randrange(0, MAX) for _ in range(3)]
    for a in values:
        cases.append({"atomic": str(a), "decimals": d, "text": text(a, d), "people": text(a, d, True) + " USDC"})
refusals = [
    {"input": "1.0000001", "decimals": 6, "why": "more fractional digits than the asset"},
    {"input": "0.5", "decimals": 0, "why": "more fractional digits than the asset"},
    {"input": "1.", "decimals": 6, "why": "no digit after the point"},
    {"input": ".5", "decimals": 6, "why": "no digit before the point"},
    {"input": "-1", "decimals": 6, "why": "sign"},
    {"input": "1e6", "decimals": 6, "why": "exponent (read as 1 of an asset E6 where an asset suffix is allowed)"},
    {"input": "1,000", "decimals": 6, "why": "grouping"},
    {"input": str(MAX) + ".1", "decimals": 1, "why": "past 2^128 - 1 atomic units"},
]
json.dump({"description": "Specs/README.md, Amounts for people: atomic units <-> exact decimal text (people: grouped, with the asset)",
           "asset": "USDC", "cases": cases, "refusals": refusals}, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")

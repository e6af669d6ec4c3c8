#!/usr/bin/env python3
"""Median stage durations per payment from paymesh-bench routed trace logs. usage: routed_stages.py ROOT BENCH_STDERR

ROOT is the folder `PAYMESH_TRACE=1 paymesh-bench routed` prints ("trace logs in …"); BENCH_STDERR the
bench's own standard error (its client.call / client.answer marks). README, issue 10 latency study."""
import sys, re, statistics, bisect
root, bench = sys.argv[1], sys.argv[2]
events = []
for name, path in [(f"n{i}", f"{root}/n{i}.log") for i in range(4)] + [("bench", bench)]:
    for line in open(path, errors="replace"):
        m = re.match(r"TRACE (\d+) (\d+) (.*)", line.strip())
        if m: events.append((int(m[1]), name, m[3]))
events.sort()
calls = [e[0] for e in events if e[1] == "bench" and e[2] == "client.call"]
answers = [e[0] for e in events if e[1] == "bench" and e[2] == "client.answer"]
wins = []
for k in range(min(len(calls), len(answers))):
    if k + 1 < len(calls) and calls[k + 1] < answers[k]: break
    wins.append((calls[k], answers[k]))
wins = wins[20:]
times = [e[0] for e in events]
stages = {}
def add(k, v): stages.setdefault(k, []).append(v / 1e6)
for a, b in wins:
    evs = events[bisect.bisect_left(times, a):bisect.bisect_right(times, b)]
    def first(node, pred, after=0):
        for t, n, l in evs:
            if t >= after and n == node and pred(l): return t
        return None
    pb = first("n0", lambda l: l == "pay.begin"); pe = first("n0", lambda l: l == "pay.end")
    rb = first("n0", lambda l: l == "payRoute.begin"); rs = first("n0", lambda l: l == "payRoute.sent-to-book")
    rr = first("n0", lambda l: l == "payRoute.result")
    if None in (pb, pe, rb, rs, rr): continue
    add("console: call -> pay.begin", pb - a)
    add("pay.begin -> payRoute.begin (journal begin, search, graph)", rb - pb)
    add("payRoute.begin -> book (take-over, onion build, sign)", rs - rb)
    # forward path: each node's send of PROPOSE, next node's recv, book.done, its send
    t = rs; label_prev = "n0 book"
    path = [("n0", "send", "HTLC_PROPOSE")]
    seq = []
    for node, nxt in [("n0", "n1"), ("n1", "n2"), ("n2", "n3")]:
        s = first(node, lambda l: l.startswith("send") and "HTLC_PROPOSE" in l, t)
        r = first(nxt, lambda l: l.startswith("recv") and "HTLC_PROPOSE" in l, s or 0)
        d = first(nxt, lambda l: l.startswith("book.done") and "HTLC_PROPOSE" in l, r or 0)
        if None in (s, r, d): break
        add(f"{node}: book -> send PROPOSE (commit on the path)", s - t)
        add(f"{node}->{nxt}: send -> recv PROPOSE (wire)", r - s)
        add(f"{nxt}: recv -> book.done PROPOSE (peel, checks)", d - r)
        t = d
    back = [("n3", "n2"), ("n2", "n1"), ("n1", "n0")]
    for node, prv in back:
        kind = "HTLC_FULFILL"
        s = first(node, lambda l: l.startswith("send") and kind in l, t)
        r = first(prv, lambda l: l.startswith("recv") and kind in l, s or 0)
        d = first(prv, lambda l: l.startswith("book.done") and kind in l, r or 0)
        if None in (s, r, d): break
        add(f"{node}: book -> send FULFILL (commit on the path)", s - t)
        add(f"{node}->{prv}: send -> recv FULFILL (wire)", r - s)
        add(f"{prv}: recv -> book.done FULFILL", d - r)
        t = d
    add("n0: book.done FULFILL -> payRoute.result (commit, wake)", rr - t)
    add("n0: payRoute.result -> pay.end (journal, reputation)", pe - rr)
    add("console: pay.end -> client.answer", b - pe)
    add("TOTAL", b - a)
    commits = [int(re.search(r"took=(\d+)", l)[1]) for tt, n, l in evs if l.startswith("commit ")]
    add("commits in window (count)", len(commits) * 1e6)
for k, v in stages.items():
    print(f"{statistics.median(v):7.3f}  {k}")

#!/usr/bin/env python3
# An independent reference for tests/unit/test-merkle.c: RFC 9162 section 2.1's
# definitions (MTH, PATH, PROOF/SUBPROOF) written as the RFC states them, over
# Python lists and hashlib, with none of lib/merkle.c's shortcuts.
# Leaf i is the bytes b"leaf-%d" % i. Prints one line per vector:
#   root N HEX | path M N HEX,HEX,... | proof M N HEX,...
import hashlib
import sys


def h(b):
    return hashlib.sha256(b).digest()


def k_of(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if len(d) == 0:
        return h(b"")
    if len(d) == 1:
        return h(b"\x00" + d[0])
    k = k_of(len(d))
    return h(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = k_of(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def main():
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    leaves = [b"leaf-%d" % i for i in range(top)]
    for n in range(0, top + 1):
        print("root %d %s" % (n, mth(leaves[:n]).hex()))
    for n in range(1, top + 1):
        for m in range(n):
            print("path %d %d %s" % (m, n, ",".join(x.hex() for x in path(m, leaves[:n]))))
        for m in range(1, n + 1):
            print("proof %d %d %s" % (m, n, ",".join(x.hex() for x in subproof(m, leaves[:n], True))))


main()

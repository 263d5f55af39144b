"""Read growth between two generated stores, printed (not a timed test):

    python tests/benchmarks/bench_growth.py LARGE_STORE.db SMALL_STORE.db [--runs 7] [--cache-kib N]

The stores are generate.py's (bench_scale keeps them under BENCH_DIR/EVENTS/store.db, with their
views). The two are read alternately, run by run, so a busy moment falls on both; the first run
of a store the OS has not cached reads from disk, which shows in the spread. `--cache-kib` gives
every SQLite connection a larger page cache, to see whether the growth is the cache's.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("large", type=Path)
    parser.add_argument("small", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cache-kib", type=int, default=0)
    args = parser.parse_args()
    if args.cache_kib:
        connect = sqlite3.connect

        def with_cache(*a, **k):
            connection = connect(*a, **k)
            connection.execute(f"PRAGMA cache_size=-{args.cache_kib}")
            return connection

        sqlite3.connect = with_cache
    from bench_scale import Reads

    large, small = Reads(args.large), Reads(args.small)
    for _ in range(args.runs):
        large.run()
        small.run()
    for key, label in (("asof", "as-of read"), ("history", "history IS:TAG"), ("now", "current read")):
        big, little = statistics.median(large.p50s[key]), statistics.median(small.p50s[key])
        print(f"{label:15} p50 {big * 1000:6.2f} ms ({min(large.p50s[key]) * 1000:.2f}–"
              f"{max(large.p50s[key]) * 1000:.2f}) at {large.head:,} events, {little * 1000:6.2f} ms at "
              f"{small.head:,}: growth {big / little:.2f}×")


if __name__ == "__main__":
    main()

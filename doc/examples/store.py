#!/usr/bin/env python3
"""An example persistent worker: the first seed's use case, a resource opened once per worker.

    mkdir out && pooltop --persistent -- python3 doc/examples/store.py out

Each worker opens its own file in the directory once (its init: out/PID.txt), stores every
item it is given and answers one line per item, in order ("stored ITEM"), and writes a last
"committed N" line and closes the file when pooltop closes its stdin (its fini: a join, or
the end of the batch). A worker terminated with SIGTERM dies without that line, as a Python
multiprocessing worker terminated runs no cleanup: the difference the seed is about.
"""
import os
import sys


def main():
    if len(sys.argv) != 2:
        print("usage: store.py DIRECTORY", file=sys.stderr)
        return 2
    path = os.path.join(sys.argv[1], f"{os.getpid()}.txt")
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as out:
        print(f"store.py {os.getpid()}: opened {path}", file=sys.stderr, flush=True)
        stored = 0
        for line in sys.stdin:
            item = line.rstrip("\n")
            out.write(item + "\n")
            stored += 1
            # The answer goes at once: pooltop waits for it.
            print(f"stored {item}", flush=True)
        out.write(f"committed {stored}\n")
    print(f"store.py {os.getpid()}: committed {stored} items", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

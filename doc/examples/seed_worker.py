#!/usr/bin/env python3
"""The first seed's "manual introspectable worker pattern", without multiprocessing.Pool.

    pooltop --persistent --in-flight 1 -j 2 -- python3 doc/examples/seed_worker.py ::: 0 1 2 3

The seed's Daemon opens its resources once per worker process (__enter__), runs per item, and
must flush them once when the worker ends (__exit__): with Pool that took a subclass, a global
and multiprocessing.util.Finalize. Here each pooltop worker runs this program once, and
pooltop_worker.run calls them in that order (the join or the end of the batch closes stdin,
which runs __exit__). Its answer is the seed's first example's, x*x; an item that is not an
integer raises, and fails with the traceback as its stderr. print() goes to stderr.
"""
from os import getpid

from pooltop_worker import run


class Daemon:
    def __enter__(self):
        """Open resources [called once per process]"""
        self.items = 0
        print(f"starting process (worker, pid={getpid()})")
        return self

    def __exit__(self, *args):
        """Flush resources [called once per process]"""
        print(f"stopping process (worker, pid={getpid()}, items={self.items})")

    def run(self, arg):
        print(f"worker is running (worker, pid={getpid()} arg={arg})")
        self.items += 1
        return int(arg) ** 2


if __name__ == "__main__":
    daemon = Daemon()
    run(daemon.run, init=daemon.__enter__, fini=daemon.__exit__)

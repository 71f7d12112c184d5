"""Write a pooltop persistent worker in Python as a function: init once, fn per item, fini once.

    import sys, pooltop_worker

    def square(item):
        return int(item) ** 2

    pooltop_worker.run(square, init=lambda: print("up"), fini=lambda: print("down"))

Run it with `pooltop --persistent --in-flight 1 -- python3 myworker.py ::: 1 2 3`. Copy this file
next to your program (or put its directory on PYTHONPATH); standard library only, Python 3.7+.

run() keeps pooltop's contract for you:
- It reads the items from stdin, one per line, and calls fn(item) on each (item is a str without
  its newline; bytes that are not UTF-8 come through as surrogates, and go back out unchanged).
- It writes exactly one answer line per item, in order, and flushes it at once: str(result), or
  "" for None, bytes as they are. An answer holding a newline is refused (the item fails), as
  pooltop fails an item holding one.
- stdout carries the answers only: while run() runs, print() and anything else written to
  stdout (a subprocess's too: file descriptor 1 is pointed at stderr) goes to stderr, which
  pooltop keeps per item (--results' "stderr") and shows in the detail view.
- init() runs once, before the first item; fini() once, when pooltop closes stdin (a join, the
  end of the batch, --max-items-per-worker). SIGTERM kills the program and fini does not run.
- An exception from fn fails its item: the traceback goes to stderr (the item's stderr), fini
  runs, and the program exits 1, which is the item's exit code; pooltop starts the program again
  (init again) for the next item. pooltop has no way for a live program to say "this item
  failed" (any answer line is a success), so ending the program is the only one. The items
  pooltop had already handed over fail with it: run with --in-flight 1 so that only the item
  that raised fails (or --retries N to run the others again).
"""
import os
import sys
import traceback

__all__ = ["run"]


def _answer(result):
    """The answer line for result, as bytes without the newline; None if it cannot be one."""
    if result is None:
        line = b""
    elif isinstance(result, (bytes, bytearray)):
        line = bytes(result)
    else:
        line = str(result).encode("utf-8", "surrogateescape")
    return None if b"\n" in line else line


def _call(what, f, *args):
    """f(*args), or None and the traceback on stderr if it raises. Returns (ok, value)."""
    try:
        return True, f(*args)
    except Exception:  # SystemExit and KeyboardInterrupt go through: the program ends.
        print(f"pooltop_worker: {what} raised:", file=sys.stderr)
        traceback.print_exc()
        return False, None


def _serve(fn, init, fini, answers):
    if init is not None and not _call("init", init)[0]:
        return 1
    for raw in sys.stdin.buffer:
        item = raw[:-1] if raw.endswith(b"\n") else raw
        item = item.decode("utf-8", "surrogateescape")
        ok, result = _call(f"the function on item {item!r}", fn, item)
        line = _answer(result) if ok else None
        if ok and line is None:
            print(f"pooltop_worker: the answer to item {item!r} holds a newline: "
                  "pooltop takes one line per item", file=sys.stderr)
        if line is None:
            # The item fails by the program's exit: fini still runs, as at a join.
            if fini is not None:
                _call("fini", fini)
            return 1
        # What the function wrote on stderr goes before its answer: it is this item's.
        sys.stderr.flush()
        answers.write(line + b"\n")
        answers.flush()
    if fini is not None and not _call("fini", fini)[0]:
        return 1
    return 0


def run(fn, init=None, fini=None):
    """Serve pooltop: init(), then fn(item) per line of stdin, then fini(). Exits the program:
    0 when stdin ended and fini returned, 1 when init, fn or fini raised."""
    sys.stdout.flush()
    # The answers get a descriptor of their own; fd 1 and sys.stdout become stderr, so that no
    # print() (nor a child's output) can slip a line among the answers.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    # One write per line: Python's stderr writes print()'s text and its newline apart, and
    # pooltop's stderr, which all the workers share, would get another line in between.
    sys.stderr.reconfigure(line_buffering=True, write_through=False)
    sys.stdout = sys.stderr
    try:
        code = _serve(fn, init, fini, answers)
        sys.stderr.flush()
        answers.close()
    except BrokenPipeError:
        os._exit(1)  # pooltop is gone: nobody reads the answers (nor a last flush)
    sys.exit(code)

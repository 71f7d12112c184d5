#!/usr/bin/env python3
"""A scripted client of pooltop's attach socket (newline-delimited JSON), for the tests.

attach_client.py SOCKET hello [VERSION]       hello, print the answer's lines until the snapshot
attach_client.py SOCKET pid SLOT              the pid of SLOT in the first snapshot
attach_client.py SOCKET raw TEXT              send TEXT (a line), print what comes back
attach_client.py SOCKET cycles N              N times: connect, hello, read the snapshot, close
attach_client.py SOCKET noread SECONDS        hello, then never read for SECONDS
attach_client.py SOCKET command CMD SLOT [RO] a command on SLOT as last seen: print the reply
attach_client.py SOCKET tail FILE N          a slow reader to the end (reads once FILE has N
                                              lines): the last two messages' types (but
                                              "missed")
attach_client.py SOCKET connections N         open N connections at once, then close them all
attach_client.py SOCKET end SECONDS           read until "finished", then SECONDS more: the types
                                              of what came after it ("nothing")
"""
import json
import os
import socket
import sys
import time

# Every wait scales with the tests' one factor (tests/lib.sh).
SCALE = float(os.environ.get("POOLTOP_TEST_SCALE") or 1)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def lines(s, until, limit=10.0):
    buf = b""
    end = time.time() + limit * SCALE
    s.settimeout(limit * SCALE)
    while time.time() < end:
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            return
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            m = json.loads(line)
            yield m
            if until(m):
                return


def hello(s, version=1, read_only=False, viewer=True):
    # A peer refused at once has its error line waiting, and may have closed already.
    try:
        s.sendall((json.dumps({"type": "hello", "version": version, "read_only": read_only,
                               "viewer": viewer}) + "\n").encode())
    except (BrokenPipeError, ConnectionResetError):
        pass


def main():
    path, what = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if what == "hello":
        s = connect(path)
        hello(s, int(args[0]) if args else 1)
        for m in lines(s, lambda m: m.get("type") in ("snapshot", "error")):
            print(json.dumps(m)[:300])
    elif what == "pid":
        s = connect(path)
        hello(s)
        for m in lines(s, lambda m: m.get("type") == "snapshot"):
            if m.get("type") == "snapshot":
                print([r["pid"] for r in m["rows"] if r["index"] == int(args[0])][0])
    elif what == "raw":
        s = connect(path)
        s.sendall(args[0].encode() + b"\n")
        s.settimeout(5 * SCALE)
        data = b""
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                data += c
        except socket.timeout:
            pass
        sys.stdout.write(data.decode(errors="replace")[:2000])
    elif what == "cycles":
        for _ in range(int(args[0])):
            s = connect(path)
            hello(s)
            for m in lines(s, lambda m: m.get("type") == "snapshot"):
                pass
            s.close()
        print("done")
    elif what == "noread":
        s = connect(path)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hello(s)
        time.sleep(float(args[0]))
        print("done")
    elif what == "command":
        cmd, slot = args[0], int(args[1])
        ro = len(args) > 2 and args[2] == "ro"
        s = connect(path)
        hello(s, read_only=ro)
        gen = None
        for m in lines(s, lambda m: m.get("type") == "snapshot"):
            if m.get("type") == "snapshot":
                for r in m["rows"]:
                    if r["index"] == slot:
                        gen = r["generation"]
        s.sendall((json.dumps({"type": "command", "id": 7, "cmd": cmd, "slot": slot,
                               "generation": gen}) + "\n").encode())
        for m in lines(s, lambda m: m.get("type") == "reply" and m.get("id") == 7):
            if m.get("type") == "reply":
                print(json.dumps(m))
    elif what == "tail":
        # A slow reader: a small receive buffer, the snapshot, then nothing read for SECONDS;
        # then everything until the end: the type of the last message, and whether every
        # line was whole JSON.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(path)
        hello(s)
        for m in lines(s, lambda m: m.get("type") == "snapshot"):
            pass
        # Until FILE has N lines (the batch's results: its end is near), at most 60 s.
        end = time.time() + 60 * SCALE
        while time.time() < end:
            try:
                with open(args[0], "rb") as f:
                    if f.read().count(b"\n") >= int(args[1]):
                        break
            except OSError:
                pass
            time.sleep(0.01)
        s.settimeout(10 * SCALE)
        data = b""
        t0 = time.time()
        while True:
            try:
                c = s.recv(1 << 20)
            except socket.timeout:
                print("tail: nothing came for %.0f s" % (10 * SCALE), file=sys.stderr)
                break
            if not c:
                break
            data += c
        print("tail: read %d bytes in %.1f s" % (len(data), time.time() - t0), file=sys.stderr)
        types, bad = ["none", "none"], 0
        for line in data.split(b"\n"):
            if not line:
                continue
            try:
                t = json.loads(line).get("type")
                if t != "missed":
                    types.append(t)
            except ValueError:
                bad += 1
        print(types[-2], types[-1], "cut" if bad or not data.endswith(b"\n") else "whole")
    elif what == "end":
        s = connect(path)
        hello(s)
        seen = [m.get("type") for m in lines(s, lambda m: m.get("type") == "finished")]
        if "finished" not in seen:
            print("no finished: " + " ".join(seen[-5:]))
            return
        after = [m.get("type") for m in lines(s, lambda m: False, float(args[0]))]
        print("finished, then " + (" ".join(after[:10]) if after else "nothing"))
    elif what == "connections":
        socks = [connect(path) for _ in range(int(args[0]))]
        for s in socks:
            s.close()
        print("done")
    else:
        sys.exit("unknown: " + what)


if __name__ == "__main__":
    main()

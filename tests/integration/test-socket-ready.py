#!/usr/bin/env python3
"""The control socket's file appears only once the daemon listens on it.

A client (a script, a test, a unit's ExecStartPost) that waits for the file and connects at
once must never be refused: between bind() and listen() a Unix socket's file exists but refuses
connections, so the daemon binds under a temporary name and links it into place when it
listens (daemon/control/server.c). Each round starts echoeld, spins on the path without
sleeping, connects the instant it appears and asks `hello`; then stops the daemon with SIGTERM.
A refused connection fails the test. Also: the temporary name is gone afterwards.

    test-socket-ready.py ECHOELD
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROUNDS = 12

echoeld = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="test-socket-ready-")
path = os.path.join(tmp, "control")
log = open(os.path.join(tmp, "log"), "w")


def fail(msg):
    print("FAIL: " + msg)
    with open(os.path.join(tmp, "log")) as f:
        sys.stdout.write(f.read()[-3000:])
    sys.exit(1)


for n in range(ROUNDS):
    proc = subprocess.Popen([echoeld, "--socket", path, "--backend", "dummy"],
                            stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    try:
        while not os.path.exists(path):
            if proc.poll() is not None:
                fail("round %d: echoeld exited (%d) before its socket appeared" %
                     (n, proc.returncode))
            if time.monotonic() > deadline:
                fail("round %d: no socket after 30 s" % n)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except ConnectionRefusedError:
            fail("round %d: the socket file existed but refused the connection" % n)
        s.settimeout(30)
        s.sendall(b'{"id":1,"cmd":"hello"}\n')
        answer = s.recv(65536)
        if b'"ok": true' not in answer and b'"ok":true' not in answer:
            fail("round %d: hello answered %r" % (n, answer[:200]))
        s.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    leftovers = [f for f in os.listdir(tmp) if f.startswith("control")]
    if leftovers:
        fail("round %d: left behind after a stop: %s" % (n, leftovers))

print("ok: %d starts, every connection the instant the socket appeared was accepted" % ROUNDS)
for f in os.listdir(tmp):
    os.unlink(os.path.join(tmp, f))
os.rmdir(tmp)

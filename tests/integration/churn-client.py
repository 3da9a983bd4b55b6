#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Port churn over echoeld's control socket, for test-jack-churn.sh and test-pipewire-churn.sh.

usage: churn-client.py SOCKET ROUNDS SECONDS

Each round adds an output node (two channels, reading the configuration's gain node `g`) and an
input node (two channels): four new ports; sets g.gain_db; removes both; sets g.mute. One
connection, the protocol of docs/protocol.md as echoelctl speaks it: a round costs a few cycles
instead of six client processes. Stops after ROUNDS rounds or once SECONDS have passed (a loaded
machine runs fewer), and prints "ROUNDS_DONE SECONDS". Exits non-zero, saying which command and
round, when echoeld hangs up or refuses one.
"""
import json
import socket
import sys
import time

path, rounds, budget = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(30)
sock.connect(path)
f = sock.makefile("rwb")
seq = 0
r = 0


def call(cmd, **args):
    global seq
    seq += 1
    f.write(json.dumps({"id": seq, "cmd": cmd, "args": args}).encode() + b"\n")
    f.flush()
    while True:
        line = f.readline()
        if not line:
            sys.exit("echoeld hung up during %s %s (round %d)" % (cmd, args, r))
        msg = json.loads(line)
        if "event" not in msg:
            break
    if not msg.get("ok"):
        sys.exit("%s %s (round %d): %s" % (cmd, args, r, msg))


t0 = time.monotonic()
while r < rounds and time.monotonic() - t0 < budget:
    call("node.add", node="churn_out", type="output", input="g")
    call("node.add", node="churn_in", type="input", settings={"channels": 2})
    call("set", node="g", param="gain_db", value=-(r % 12))
    call("node.remove", node="churn_out")
    call("node.remove", node="churn_in")
    call("set", node="g", param="mute", value=r % 2)
    r += 1
print(r, "%.1f" % (time.monotonic() - t0))

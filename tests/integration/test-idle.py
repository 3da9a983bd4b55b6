#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Property: an idle echoeld wakes at most once a second, and still answers to its watchdog.

The built-in default graph on the own clock with silent input is idle: the clock stops, and
`status` says `"idle": true`. Over 12 s every thread of the daemon together then sleeps and wakes
(voluntary context switches, from /proc/PID/task/*/status; the main thread and those named
echoeld-*, not a sanitizer's) at most 12 times — a loaded machine
preempts threads (involuntary switches) but does not wake them — while WATCHDOG=1 pings still
arrive (the stopped clock is not a hang). A node that makes sound starts the clock at once
(`idle` false, cycles counting); removing it lets the daemon fall idle again.
usage: test-idle.py ECHOELD ECHOELCTL
"""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, time

echoeld, echoelctl = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="test-idle-")
control = os.path.join(tmp, "control")
notify_path = os.path.join(tmp, "notify")
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(notify_path)
messages = []  # (time, text)
log = open(os.path.join(tmp, "log"), "w+")
# an 8 s watchdog: pings every 4 s or more, the idle tick every 2 s
env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="8000000")
env.pop("JOURNAL_STREAM", None)
proc = subprocess.Popen([echoeld, "--backend", "dummy", "--socket", control], env=env,
                        stdout=log, stderr=log)


def fail(why):
    log.seek(0)
    print("FAIL:", why, "\nlog:", log.read())
    proc.kill()
    proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1)


def collect(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        notify.settimeout(max(0.01, end - time.monotonic()))
        try:
            messages.append((time.monotonic(), notify.recv(4096).decode()))
        except socket.timeout:
            pass


def status():
    r = subprocess.run([echoelctl, "--socket", control, "--json", "status"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("status: %r" % r.stderr)
    return json.loads(r.stdout)


def ctl(*args):
    r = subprocess.run([echoelctl, "--socket", control, *args], capture_output=True, text=True)
    if r.returncode != 0:
        fail("echoelctl %s: %r" % (" ".join(args), r.stderr))


def wakeups():
    # The daemon's threads: the main one and those it named (echoeld-*). A sanitizer's runtime
    # thread (TSan's wakes ten times a second) is the build's, not the daemon's.
    total = 0
    for tid in os.listdir("/proc/%d/task" % proc.pid):
        try:
            with open("/proc/%d/task/%s/comm" % (proc.pid, tid)) as f:
                if int(tid) != proc.pid and not f.read().startswith("echoeld-"):
                    continue
            with open("/proc/%d/task/%s/status" % (proc.pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended: none should while idle
    return total


def wait_idle(want, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if status().get("idle") == want:
            return True
        collect(0.2)
    return False


for _ in range(200):
    if os.path.exists(control):
        break
    time.sleep(0.05)
collect(0.5)
if not wait_idle(True, 20):
    fail("the default graph with silent input did not fall idle within 20 s")

SECONDS = 12
w0, t0 = wakeups(), time.monotonic()
collect(SECONDS)
w1, t1 = wakeups(), time.monotonic()
rate = (w1 - w0) / (t1 - t0)
pings = [t for t, m in messages if "WATCHDOG=1" in m and t0 <= t <= t1]
if w1 - w0 > SECONDS:
    fail("%d wake-ups in %.1f s while idle (%.2f/s; at most 1/s)" % (w1 - w0, t1 - t0, rate))
if len(pings) < 2:
    fail("%d WATCHDOG=1 pings in %.1f s while idle (every 4 s expected)" % (len(pings), t1 - t0))

cycles = status()["cycles"]
ctl("node", "add", "beep", "tone")
st = status()  # the request woke the clock: it runs before the answer comes back, or soon after
if not wait_idle(False, 5):
    fail("a tone did not start the clock")
end = time.monotonic() + 5
while status()["cycles"] <= cycles + 10 and time.monotonic() < end:
    collect(0.05)
if status()["cycles"] <= cycles + 10:
    fail("the clock did not run after a tone was added")
ctl("node", "remove", "beep")
if not wait_idle(True, 20):
    fail("the daemon did not fall idle again after the tone was removed")

proc.send_signal(signal.SIGTERM)
try:
    code = proc.wait(10)
except subprocess.TimeoutExpired:
    fail("no exit after SIGTERM")
if code != 0:
    fail("exit status %d" % code)
log.seek(0)
text = log.read()
if any(s in text for s in ("Sanitizer", "real-time unsafe", "runtime error")):
    fail("a sanitizer reported")
shutil.rmtree(tmp, ignore_errors=True)
print("ok: idle, %d wake-ups in %.1f s (%.2f/s), %d watchdog pings; a tone woke it, its removal "
      "let it sleep again" % (w1 - w0, t1 - t0, rate, len(pings)))

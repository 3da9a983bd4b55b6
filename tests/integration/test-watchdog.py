#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Property: under a systemd watchdog (WatchdogSec=1, Restart=on-watchdog), a daemon whose RT
thread truly hangs is killed and restarted, and one that runs is left alone.

PID 1 is not systemd here, so this test is the supervisor, doing what systemd does: it listens
on NOTIFY_SOCKET, starts echoeld with WATCHDOG_USEC=1000000, and when no WATCHDOG=1 has come for
that long it sends SIGABRT (WatchdogSignal=), then SIGKILL 5 s later if needed, and starts it
again. The RT thread is hung with the test-only debug.stall hook (60 s: the cycle never returns).
  - 4 s of normal running: pings every ~0.5 s, no kill;
  - the hang: the pings stop, the supervisor kills the daemon within WATCHDOG_USEC plus the
    daemon's last ping interval of the hang's start, and the daemon dies of that signal
    (a hung audio thread does not keep the process alive);
  - the restarted daemon says READY=1, answers `status` with cycles running, and pings again.
usage: test-watchdog.py ECHOELD ECHOELCTL
"""
import os, resource, shutil, signal, socket, subprocess, sys, tempfile, time

echoeld, echoelctl = sys.argv[1], sys.argv[2]
WATCHDOG_S = 1.0
tmp = tempfile.mkdtemp(prefix="test-watchdog-", dir="/tmp")
notify_path = os.path.join(tmp, "notify")
control = os.path.join(tmp, "control")
conf = os.path.join(tmp, "echoeld.conf")
with open(conf, "w") as f:
    f.write("[node.tone]\ntype = tone\n[node.out]\ntype = output\ninput = tone\n")
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(notify_path)
logpath = os.path.join(tmp, "log")
log = open(logpath, "w")
env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC=str(int(WATCHDOG_S * 1e6)),
           ECHOELD_TEST_HOOKS="1", STATE_DIRECTORY=os.path.join(tmp, "state"))
proc = None
messages = []  # (time, instance, text)


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGABRT: no core file in the tree


def start(instance):
    global proc
    proc = subprocess.Popen([echoeld, "--config", conf, "--socket", control, "--backend",
                             "dummy"], env=env, stdout=log, stderr=log, preexec_fn=no_core)
    deadline = time.monotonic() + 20
    while not any(i == instance and "READY=1" in m for _, i, m in messages):
        if proc.poll() is not None:
            fail("instance %d exited (%d) before READY=1" % (instance, proc.returncode))
        if time.monotonic() > deadline:
            fail("instance %d: no READY=1 within 20 s" % instance)
        collect(0.1, instance)


def cleanup():
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)


def fail(why):
    print("FAIL:", why)
    print("notify messages:", [(round(t - T0, 2), i, m) for t, i, m in messages][-30:])
    log.flush()
    print("--- log:\n" + open(logpath).read())
    cleanup()
    sys.exit(1)


def collect(seconds, instance):
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        notify.settimeout(left)
        try:
            data = notify.recv(4096).decode()
        except socket.timeout:
            return
        messages.append((time.monotonic(), instance, data))


def last_ping(instance):
    return max((t for t, i, m in messages if i == instance and "WATCHDOG=1" in m), default=None)


def supervise(instance, seconds):
    """systemd's watchdog for seconds: (time of the kill, signal) or None if never fired."""
    end = time.monotonic() + seconds
    armed = time.monotonic()  # systemd arms the watchdog at READY=1
    while time.monotonic() < end:
        collect(0.05, instance)
        since = last_ping(instance) or armed
        if time.monotonic() - since > WATCHDOG_S:
            t_kill = time.monotonic()
            proc.send_signal(signal.SIGABRT)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            return t_kill, -proc.returncode
    return None


def ctl(*args):
    return subprocess.run([echoelctl, "--socket", control, *args], capture_output=True,
                          text=True, timeout=20)


signal.signal(signal.SIGTERM, lambda *_: fail("terminated (timeout)"))
T0 = time.monotonic()
start(1)
# 1. running: pings come, the watchdog never fires
if supervise(1, 4.0) is not None:
    fail("the watchdog fired on a running daemon")
n_pings = len([1 for _, i, m in messages if i == 1 and "WATCHDOG=1" in m])
if n_pings < 4:
    fail("%d pings in 4 s of running (WATCHDOG_USEC 1 s: one every ~0.5 s)" % n_pings)
# 2. the RT thread hangs
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(control)
s.sendall(b'{"id":1,"cmd":"debug.stall","args":{"ms":60000}}\n')
if b'"ok":true' not in s.recv(4096):
    fail("debug.stall refused")
t_hang = time.monotonic()
fired = supervise(1, 10.0)
s.close()
if fired is None:
    fail("the watchdog did not fire within 10 s of the RT thread hanging")
t_kill, sig = fired
# the last ping may have been earned just before the hang: at most one interval plus the
# timeout after it, the supervisor's own polling and a loaded host's delays
if t_kill - t_hang > 2 * WATCHDOG_S + 1.5:
    fail("killed %.2f s after the hang" % (t_kill - t_hang))
if sig not in (signal.SIGABRT, signal.SIGKILL):
    fail("the daemon ended with %d, not by the watchdog's signal" % -sig)
print("# RT thread hung: watchdog fired after %.2f s, the daemon died of %s" %
      (t_kill - t_hang, signal.Signals(sig).name))
# 3. restarted
start(2)
time.sleep(1.0)
st = ctl("--json", "status")
if st.returncode != 0 or '"cycles"' not in st.stdout:
    fail("the restarted daemon: %r %r" % (st.stdout, st.stderr))
if supervise(2, 3.0) is not None:
    fail("the watchdog fired on the restarted daemon")
if not last_ping(2):
    fail("no pings from the restarted daemon")
proc.send_signal(signal.SIGTERM)
try:
    code = proc.wait(10)
except subprocess.TimeoutExpired:
    fail("no exit after SIGTERM")
if code != 0:
    fail("exit status %d" % code)
cleanup()
print("ok: %d pings while running, a hung RT thread killed by the watchdog in %.2f s, the "
      "restart READY and pinging" % (n_pings, t_kill - t_hang))

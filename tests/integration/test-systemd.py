#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Property: echoeld behaves as a Type=notify, socket-activated, watchdog-supervised service.

With systemd's own systemd-socket-activate passing the control socket and a NOTIFY_SOCKET
listener standing in for PID 1 (as ../shared/testing.md describes):
  - READY=1 arrives only after the first cycle ran, with a STATUS= line naming the backend;
  - the daemon serves the socket it was passed (echoelctl works through it) and binds none;
  - SIGHUP gives RELOADING=1 then READY=1;
  - WATCHDOG=1 pings come while the cycle runs, stop while the RT thread is stalled on purpose
    (the test-only debug.stall hook), and resume after;
  - SIGTERM gives STOPPING=1 and a clean exit;
  - FFTW wisdom is saved in $STATE_DIRECTORY (StateDirectory=) and the next start loads it.
usage: test-systemd.py ECHOELD ECHOELCTL      (exit 77 without systemd-socket-activate)
"""
import os, shutil, signal, socket, struct, subprocess, sys, tempfile, time, wave

echoeld, echoelctl = sys.argv[1], sys.argv[2]
activate = shutil.which("systemd-socket-activate")
if not activate:
    print("skip: systemd-socket-activate is not installed")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="test-systemd-")
notify_path = os.path.join(tmp, "notify")
control = os.path.join(tmp, "control")
conf = os.path.join(tmp, "echoeld.conf")
state = os.path.join(tmp, "state")
os.mkdir(state)
ir = os.path.join(tmp, "ir.wav")
with wave.open(ir, "wb") as w:  # a short decaying IR: the fir plans an FFT, so there is wisdom
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(48000)
    w.writeframes(b"".join(struct.pack("<h", int(20000 * 0.99 ** i)) for i in range(300)))
with open(conf, "w") as f:
    f.write("[node.tone]\ntype = tone\n[node.fir]\ntype = fir\ninput = tone\nir = %s\n"
            "[node.out]\ntype = output\ninput = fir\n" % ir)

notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(notify_path)
env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="1000000", ECHOELD_TEST_HOOKS="1",
           STATE_DIRECTORY=state)
env.pop("JOURNAL_STREAM", None)
log = open(os.path.join(tmp, "log"), "w+")
proc = subprocess.Popen([activate, "-l", control, "--fdname=control", "-E", "NOTIFY_SOCKET",
                         "-E", "WATCHDOG_USEC", "-E", "ECHOELD_TEST_HOOKS", "-E", "STATE_DIRECTORY",
                         echoeld, "--config", conf, "--backend", "dummy"],
                        env=env, stdout=log, stderr=log)
messages = []  # (time, text)


def fail(why):
    log.seek(0)
    print("FAIL:", why, "\nnotify messages:", messages, "\nlog:", log.read())
    proc.kill()
    proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1)


def collect(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        notify.settimeout(max(0.01, end - time.monotonic()))
        try:
            data = notify.recv(4096).decode()
        except socket.timeout:
            continue
        messages.append((time.monotonic(), data))


def wait_for(text, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if any(text in m for _, m in messages):
            return True
        collect(0.1)
    return False


def ctl(*args):
    return subprocess.run([echoelctl, "--socket", control, *args], capture_output=True, text=True)


def pings_between(t0, t1):
    return [t for t, m in messages if "WATCHDOG=1" in m and t0 <= t <= t1]


# systemd-socket-activate starts the daemon on the first connection: wait for its socket, connect.
for _ in range(100):
    if os.path.exists(control):
        break
    time.sleep(0.05)
ctl("status")
if not wait_for("READY=1", 10):
    fail("no READY=1")
ready = next(m for _, m in messages if "READY=1" in m)
if "STATUS=running on dummy" not in ready:
    fail("READY=1 without the STATUS line: %r" % ready)
st = ctl("status")
if st.returncode != 0 or "dummy" not in st.stdout:
    fail("echoelctl through the activated socket: %r %r" % (st.stdout, st.stderr))
log.seek(0)
if "serving the socket systemd passed" not in log.read():
    fail("the daemon did not use the socket it was passed")

wisdom = os.path.join(state, "fftw-wisdom")
if not os.path.isfile(wisdom) or "fftwf_wisdom" not in open(wisdom).read():
    fail("no FFTW wisdom saved in $STATE_DIRECTORY")

proc.send_signal(signal.SIGHUP)
if not wait_for("RELOADING=1", 5):
    fail("no RELOADING=1 after SIGHUP")
t_reload = max(t for t, m in messages if "RELOADING=1" in m)
# however long the reload takes on a loaded machine: waited for, not given a fixed second
end = time.monotonic() + 10
while not any("READY=1" in m and t > t_reload for t, m in messages) and time.monotonic() < end:
    collect(0.1)
if not any("READY=1" in m and t > t_reload for t, m in messages):
    fail("no READY=1 within 10 s after the reload")

# Watchdog: 1 s interval, so a ping every ~0.5 s while cycles run.
collect(2.0)
t0 = time.monotonic()
if len(pings_between(t0 - 2.0, t0)) < 2:
    fail("too few WATCHDOG=1 pings while running")
stall = socket.socket(socket.AF_UNIX)
stall.connect(control)
t_req = time.monotonic()
stall.sendall(b'{"id":1,"cmd":"debug.stall","args":{"ms":3000}}\n')
if b'"ok":true' not in stall.recv(4096):
    fail("debug.stall refused")
t_stall = time.monotonic()
collect(3.2)
# The daemon sets the stall's end when it handles the request, between t_req and t_stall: the RT
# thread is stalled from about t_stall until at least t_req + 3 s. Pings are counted as this
# test receives them, whenever the host lets the daemon send them, so no sub-window is assumed
# quiet. A daemon that gates its pings on progress sends at most two in there: one from a tick
# that read the cycle count before the RT thread saw the stall (sent late, or read here late),
# one from the first tick after, which sees those last cycles move; then none until the stall
# ends. A daemon that pings regardless sends one every 0.5 s: five or more in these ~3 s.
during = pings_between(t_stall, t_req + 3.0)
if len(during) > 2:
    fail("%d WATCHDOG=1 pings while the cycle was stalled (at most 2 earned before it)" %
         len(during))
collect(2.0)
if not pings_between(t_stall + 3.0, time.monotonic()):
    fail("the pings did not resume after the stall")

proc.send_signal(signal.SIGTERM)
try:
    code = proc.wait(10)
except subprocess.TimeoutExpired:
    fail("no exit after SIGTERM")
collect(0.2)
if code != 0:
    fail("exit status %d" % code)
if not any("STOPPING=1" in m for _, m in messages):
    fail("no STOPPING=1")
log.seek(0)
text = log.read()
if any(s in text for s in ("Sanitizer", "real-time unsafe", "runtime error")):
    fail("a sanitizer reported")
# The next start finds the wisdom the first one saved.
again = subprocess.run(["timeout", "-s", "INT", "2", echoeld, "--config", conf, "--backend", "dummy",
                        "--socket", os.path.join(tmp, "control2")],
                       env=dict(os.environ, STATE_DIRECTORY=state), capture_output=True, text=True)
if "loaded FFTW wisdom from '%s'" % wisdom not in again.stderr:
    fail("the second start did not load the wisdom: %r" % again.stderr)
shutil.rmtree(tmp, ignore_errors=True)
print("ok: READY after the first cycle, STATUS, socket activation, RELOADING/READY, watchdog "
      "gated on progress (%d pings, %d earned before a 3 s stall arriving in it), STOPPING, "
      "wisdom kept" % (len([m for _, m in messages if "WATCHDOG=1" in m]), len(during)))

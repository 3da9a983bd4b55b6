#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Property: a worker thread that stops — a debugger, a higher real-time thread, a hung kernel
call — costs the cycle a late level, never a deadlock, and the audio goes on.

The real echoeld on its own clock (SCHED_FIFO, so levels are shared) with one worker and four
FIR branches in the same level. The test stops the worker thread alone with ptrace
(PTRACE_SEIZE + PTRACE_INTERRUPT: a real stopped thread, the rest of the process running):
  1. once for 3 s, where it almost always is between cycles (its futex wait): the cycle runs
     every level itself, the cycles counter advances at the clock's rate, no level is late;
  2. for 10 s at random moments, 20 ms each, the stopper at SCHED_FIFO 90 so it can preempt the
     worker inside a step it claimed (a claimed step cannot be taken back: the cycle then waits
     for it and the level is late): the cycles go on, the control thread answers, and every
     late level counted comes with a `late_level` event to a `late` subscriber. Where the stops
     landed is printed (/proc/TID/syscall: in a system call, or in user code); the unit test
     test-engine-workers makes a step slow on purpose for the late-level case itself.
Then SIGTERM: a clean exit within 10 s (no thread left waiting on another).
usage: test-worker-stop.py ECHOELD   (exit 77 where ptrace or SCHED_FIFO is refused)
"""
import ctypes, json, math, os, random, shutil, signal, socket, struct, subprocess, sys
import tempfile, time, wave

echoeld = sys.argv[1]
PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]

tmp = tempfile.mkdtemp(prefix="test-worker-stop-", dir="/tmp")
control = os.path.join(tmp, "control")
logpath = os.path.join(tmp, "log")
log = open(logpath, "w")
proc = None
traced = None


def cleanup():
    if traced is not None:
        libc.ptrace(PTRACE_DETACH, traced, None, None)
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)


def fail(why):
    print("FAIL:", why)
    log.flush()
    print("--- log:\n" + open(logpath).read())
    cleanup()
    sys.exit(1)


def skip(why):
    print("skip:", why)
    cleanup()
    sys.exit(77)


signal.signal(signal.SIGTERM, lambda *_: fail("terminated (timeout)"))

# Four heavy branches in one level (uniform partitions: every cycle costs the whole IR), so the
# worker spends a good share of each cycle inside a step.
TAPS = 262144
rng = random.Random(3)
ir = os.path.join(tmp, "ir.wav")
with wave.open(ir, "wb") as w:
    w.setnchannels(2)
    w.setsampwidth(2)
    w.setframerate(48000)
    w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(
        8000 * rng.gauss(0, 1) * math.exp(-i / 60000))))) for i in range(TAPS * 2)))
conf = os.path.join(tmp, "echoeld.conf")
with open(conf, "w") as f:
    f.write("""[engine]
block = 64
workers = 1
[policy]
enabled = no
[node.tone]
type = tone
channels = 2
level_db = -30
%(firs)s[node.mix]
type = mix
input = f1, f2, f3, f4
[node.meter]
type = meter
input = mix
[node.out]
type = output
input = meter
""" % {"firs": "".join("[node.f%d]\ntype = fir\ninput = tone\nir = %s\nlayout = uniform\n"
                        "gain_db = -40\n" % (i, ir) for i in range(1, 5))})

proc = subprocess.Popen([echoeld, "--config", conf, "--socket", control, "--backend", "dummy"],
                        stdout=log, stderr=log)
deadline = time.monotonic() + 30
while not os.path.exists(control):
    if proc.poll() is not None:
        fail("echoeld exited (%d) before its socket appeared" % proc.returncode)
    if time.monotonic() > deadline:
        fail("no socket after 30 s")
    time.sleep(0.05)


class Conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(control)
        self.buf, self.id, self.events = b"", 0, []

    def line(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                fail("echoeld hung up")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, cmd, args=None):
        self.id += 1
        req = {"id": self.id, "cmd": cmd}
        if args is not None:
            req["args"] = args
        self.s.sendall(json.dumps(req).encode() + b"\n")
        while True:
            msg = self.line()
            if "event" in msg:
                self.events.append(msg)
                continue
            if not msg.get("ok"):
                fail("%s: %s" % (cmd, msg))
            return msg["result"]


c = Conn()
late = Conn()
late.call("subscribe", {"events": ["late"]})
time.sleep(1.0)
st = c.call("status")
if not st.get("workers_realtime"):
    skip("levels are not shared with the worker here (SCHED_FIFO refused: %s workers, "
         "realtime %s)" % (st.get("workers"), st.get("workers_realtime")))
period = st["block"] / st["rate"]
workers = [t for t in os.listdir("/proc/%d/task" % proc.pid)
           if open("/proc/%d/task/%s/comm" % (proc.pid, t)).read().startswith("echoeld-work")]
if len(workers) != 1:
    fail("expected one worker thread, found %s" % workers)
tid = int(workers[0])


def stop_worker():
    """Stops the worker thread alone; returns where: 'idle' (in a system call) or 'step' (in
    user code: a step, or on its way to or from one)."""
    global traced
    if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
        skip("ptrace(PTRACE_SEIZE) refused: %s" % os.strerror(ctypes.get_errno()))
    traced = tid
    if libc.ptrace(PTRACE_INTERRUPT, tid, None, None) != 0:
        fail("PTRACE_INTERRUPT: %s" % os.strerror(ctypes.get_errno()))
    os.waitpid(tid, WALL)
    where = open("/proc/%d/task/%d/syscall" % (proc.pid, tid)).read().split()[0]
    # "-1": stopped in user code (a step: workers make no system call inside one); a number:
    # in that system call (the futex wait between cycles)
    return "step" if where == "-1" else "idle"


def resume_worker():
    global traced
    if libc.ptrace(PTRACE_DETACH, tid, None, None) != 0:
        fail("PTRACE_DETACH: %s" % os.strerror(ctypes.get_errno()))
    traced = None


# 1. stopped while it sleeps (where a debugger or a stop signal finds a worker nearly always):
# the cycle runs every level itself at the clock's rate, no level is late
where = stop_worker()
before = c.call("status")
t0 = time.monotonic()
time.sleep(3.0)
during = c.call("status")
held = time.monotonic() - t0
resume_worker()
ran = (during["cycles"] - before["cycles"]) * period
# a loaded host may make cycles late (counted as such), so half the clock's rate is enough
if ran < 0.5 * held:
    fail("worker stopped (%s): %.2f s of cycles in %.2f s" % (where, ran, held))
if where == "idle" and during["late_levels"] != before["late_levels"]:
    fail("worker stopped idle: late levels %d -> %d" %
         (before["late_levels"], during["late_levels"]))
print("# worker stopped %s for %.1f s: %.2f s of cycles ran, late levels %d -> %d" %
      (where, held, ran, before["late_levels"], during["late_levels"]))

# 2. stopped at random moments, 20 ms each, for 10 s, the stopper above the audio threads'
# priority so it can land inside a step: whatever it hits, the cycle goes on between stops and
# the control thread answers; a level the stop made late is counted and reported
try:
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(90))
except OSError:
    pass  # then it lands where the audio threads leave it room
counts = {"idle": 0, "step": 0}
first = c.call("status")
t_end = time.monotonic() + 10
while time.monotonic() < t_end:
    counts[stop_worker()] += 1
    time.sleep(0.02)
    resume_worker()
    time.sleep(rng.uniform(0.001, 0.03))
os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
time.sleep(1.5)  # past the fallback second
last = c.call("status")
if (last["cycles"] - first["cycles"]) * period < 0.5 * 11.5:
    fail("%d cycles in 11.5 s of random stops" % (last["cycles"] - first["cycles"]))
n_late = last["late_levels"] - first["late_levels"]
late.s.settimeout(0.5)
try:
    while True:
        late.events.append(late.line())
except (socket.timeout, TimeoutError):
    pass
n_events = len([e for e in late.events if e.get("event") == "late_level"])
if n_late and not n_events:
    fail("%d late levels counted but no late_level event" % n_late)
print("# %d random stops (%d in a sleep, %d in user code): %d late levels, %d late_level "
      "events; the cycle ran on" % (sum(counts.values()), counts["idle"], counts["step"],
                                    n_late, n_events))
rounds = sum(counts.values()) + 1

proc.send_signal(signal.SIGTERM)
try:
    code = proc.wait(10)
except subprocess.TimeoutExpired:
    fail("no exit within 10 s of SIGTERM (a thread waiting on another?)")
if code != 0:
    fail("exit status %d" % code)
text = open(logpath).read()
if any(s in text for s in ("Sanitizer", "runtime error")):
    fail("a sanitizer reported")
cleanup()
print("ok: a stopped worker never stopped the audio (%d stops)" % rounds)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Property: the power and heat policy scales the running daemon as docs/policy.md says, end to
end, without ever dropping the audio.

Black box: the real echoeld on the dummy clock, its [policy] sysfs_root pointed at a fake sysfs
tree this test rewrites (poll_ms = 200, dwell_ms = 0, [engine] workers = the CPU count), a graph
tone -> fir (a real 16384-tap exponentially decaying noise IR) -> meter -> output, and clients
on the control socket: one subscribed to `policy` events, one to `meters` at 60 Hz (read all the
time, so every meter sample of the run is checked), plus echoelctl.
  1. a laptop on AC, charging: mode unrestricted; status shows it, the engine runs the policy's
     worker count, fir.tail_db is 0;
  2. the battery discharging at 15 %: within a few poll intervals a `policy` event with mode low,
     workers down to the fewest, fir.tail_db -60, `echoelctl policy` shows the battery files and
     their values, the log has exactly one "policy: mode low" line, meters come at ~10/s, the
     capacity sitting on and around the 20 % threshold changes nothing (one event in all, a
     reload of the unchanged configuration among them), and
     the audio never noticed (no late cycle across the change, tried again up to three times
     since a busy shared host makes late cycles of its own);
  3. garbage in `capacity`: one log line about the read error, the decision kept, the daemon
     fine; the file fixed: one recovery line;
  4. back on AC: unrestricted again, meters at ~60/s;
  5. a thermal zone rising through its passive trip (fair, then serious, each an event with the
     FIR tier of its level), sitting on and jittering around the boundaries (no flapping: the
     policy events are counted), falling back below trip minus hysteresis (fair, nominal);
  6. the battery directory removed (unplugged) while on battery power: unrestricted (no battery);
  7. `echoelctl policy set mode=low` pins low, `mode=auto` releases it; a fir added while pinned
     low has its IR's preparation (resampling, transforms) throttled, one added unrestricted not;
  8. a reading that changes no state (the zone cooling from 68 to 50 °C) still shows in `status`
     and `echoelctl policy`: they show what was read last, not what was read at the last change;
and all along, every meter sample reads the tone's level within 0.5 dB (the FIR cuts, crossfaded,
and the worker changes never drop or step the audio), with no xrun and no clipping.
The uevent path cannot be exercised here (see the skip note it prints); the poll path proves the
same behaviour.
usage: test-policy.py ECHOELD ECHOELCTL
"""
import atexit, json, math, os, random, re, selectors, shutil, signal, socket, struct
import subprocess, sys, tempfile, threading, time, wave

echoeld, echoelctl = sys.argv[1], sys.argv[2]
POLL_MS = 200
WAIT = 4.0  # seconds a change may take to show: many poll intervals, room for sanitizers

tmp = tempfile.mkdtemp(prefix="test-policy-", dir="/tmp")  # /tmp: sockaddr_un is short
control = os.path.join(tmp, "control")
sysfs = os.path.join(tmp, "sys")
psu = os.path.join(sysfs, "class", "power_supply")
bat, ac = os.path.join(psu, "BAT0"), os.path.join(psu, "AC")
zone = os.path.join(sysfs, "class", "thermal", "thermal_zone0")
logpath = os.path.join(tmp, "log")
log = open(logpath, "w+")
# What the subscribers got (one reader thread): events[name] = [(monotonic time, event)].
events = {"policy": [], "meters": []}
events_lock = threading.Lock()
stop_reader = threading.Event()
proc = None
t_start = time.monotonic()


def note(text):
    print("# [%5.1f s] %s" % (time.monotonic() - t_start, text), flush=True)


def cleanup():
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)


atexit.register(cleanup)  # also after an exception, or meson's SIGTERM at the timeout
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def fail(why):
    print("FAIL:", why)
    with events_lock:
        pol = [e for _, e in events["policy"]]
    print("--- policy events (%d):" % len(pol))
    for e in pol:
        print("   ", {k: e.get(k) for k in ("mode", "mode_reason", "thermal", "thermal_reason",
                                             "mode_pinned", "actions")})
    log.flush()
    with open(logpath) as f:
        print("--- daemon log:\n" + f.read())
    cleanup()
    sys.exit(1)


def write(path, text):
    """Replaces a sysfs file at once (rename), so the policy never reads it half written."""
    t = os.path.join(tmp, ".new")
    with open(t, "w") as f:
        f.write(text + "\n")
    os.replace(t, path)


def log_lines(pattern):
    log.flush()
    with open(logpath) as f:
        return [l for l in f if re.search(pattern, l)]


# ---- the fake sysfs tree: a laptop on AC, charging at 50 %, cool ----
for d in (bat, ac, zone):
    os.makedirs(d)
write(os.path.join(ac, "type"), "Mains")
write(os.path.join(ac, "online"), "1")
write(os.path.join(bat, "type"), "Battery")
write(os.path.join(bat, "status"), "Charging")
write(os.path.join(bat, "capacity"), "50")
write(os.path.join(zone, "type"), "acpitz")
write(os.path.join(zone, "temp"), "40000")
write(os.path.join(zone, "trip_point_0_type"), "passive")
write(os.path.join(zone, "trip_point_0_temp"), "80000")
write(os.path.join(zone, "trip_point_1_type"), "critical")
write(os.path.join(zone, "trip_point_1_temp"), "105000")
PASSIVE, FAIR_MARGIN, HYST = 80000, 5000, 2000  # m°C; the margin and hysteresis are the defaults

# ---- a realistic IR: 16384 taps of noise decaying exponentially, unit energy ----
# Energy left after tap i is exp(-2 i / TAU): -60 dB at ~8300 taps, -90 dB at ~12400, so both
# cuts shorten it.
TAPS, TAU = 16384, 1200.0
rng = random.Random(7)
taps = [rng.gauss(0, 1) * math.exp(-i / TAU) for i in range(TAPS)]
norm = 1 / math.sqrt(sum(t * t for t in taps))
ir = os.path.join(tmp, "ir.wav")
with wave.open(ir, "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(48000)
    w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, round(32767 * t * norm))))
                           for t in taps))

ncpu = os.sysconf("SC_NPROCESSORS_ONLN")
conf = os.path.join(tmp, "echoeld.conf")
with open(conf, "w") as f:
    f.write("""[engine]
block = 256
fade_ms = 10
workers = %d
[ipc]
file_dirs = %s
[policy]
sysfs_root = %s
poll_ms = %d
dwell_ms = 0
[node.tone]
type = tone
freq = 997
level_db = -20
channels = 2
[node.fir]
type = fir
input = tone
ir = %s
[node.meter]
type = meter
input = fir
[node.out]
type = output
input = meter
""" % (ncpu, tmp, sysfs, POLL_MS, ir))


def workers_at(level):
    """What docs/policy.md says the engine runs at a level, capped by [engine] workers."""
    cores = ncpu if level == 0 else max(ncpu // 2, 1) if level == 1 else 1
    return min(cores - 1, ncpu)


# ---- the daemon ----
proc = subprocess.Popen([echoeld, "--config", conf, "--socket", control, "--backend", "dummy"],
                        stdout=log, stderr=log)
deadline = time.monotonic() + 20
while not os.path.exists(control):
    if proc.poll() is not None:
        fail("echoeld exited (%d) before its socket appeared" % proc.returncode)
    if time.monotonic() > deadline:
        fail("no socket after 20 s")
    time.sleep(0.05)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(control)
    return s


class Conn:
    """A request/response connection on the control socket."""

    def __init__(self):
        self.s, self.buf, self.id = connect(), b"", 0

    def call(self, cmd, args=None, timeout=10):
        self.id += 1
        req = {"id": self.id, "cmd": cmd}
        if args is not None:
            req["args"] = args
        self.s.sendall((json.dumps(req) + "\n").encode())
        end = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                j = json.loads(line)
                if j.get("id") == self.id:
                    if not j.get("ok"):
                        fail("%s: %s" % (cmd, j.get("error")))
                    return j.get("result")
            left = end - time.monotonic()
            if left <= 0:
                fail("no answer to %s in %d s" % (cmd, timeout))
            self.s.settimeout(left)
            data = self.s.recv(65536)
            if not data:
                fail("the daemon closed the connection (%s)" % cmd)
            self.buf += data


def subscribe(events_list, rate=None):
    """A connection subscribed to events_list, and what it got after the answer."""
    s = connect()
    args = {"events": events_list}
    if rate:
        args["rate"] = rate
    s.sendall((json.dumps({"id": 1, "cmd": "subscribe", "args": args}) + "\n").encode())
    s.settimeout(10)
    buf = b""
    while b"\n" not in buf:
        data = s.recv(65536)
        if not data:
            fail("the daemon closed the connection (subscribe %s)" % events_list)
        buf += data
    line, buf = buf.split(b"\n", 1)
    if not json.loads(line).get("ok"):
        fail("subscribe %s: %s" % (events_list, line.decode()))
    s.setblocking(False)
    return s, buf


def reader(subs):
    """Records every event of the subscriptions (sock, leftover) until stop_reader is set."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s, leftover in subs:
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = leftover
    while True:
        now = time.monotonic()
        for s in bufs:
            while b"\n" in bufs[s]:
                line, bufs[s] = bufs[s].split(b"\n", 1)
                j = json.loads(line)
                if j.get("event") in events:
                    with events_lock:
                        events[j["event"]].append((now, j))
        if stop_reader.is_set():
            return
        for key, _ in sel.select(0.1):
            try:
                data = key.fileobj.recv(1 << 16)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fileobj)
                continue
            bufs[key.fileobj] += data


threading.Thread(target=reader, args=([subscribe(["policy"]), subscribe(["meters"], 60)],),
                 daemon=True).start()
c = Conn()


def status():
    return c.call("status")


def wait_until(pred, what, timeout=WAIT):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if proc.poll() is not None:
            fail("echoeld exited (%d) while waiting for %s" % (proc.returncode, what))
        if time.monotonic() > end:
            fail("no %s within %.1f s" % (what, timeout))
        time.sleep(0.05)


def policy_events(since=0):
    with events_lock:
        return [e for _, e in events["policy"][since:]]


def n_policy_events():
    with events_lock:
        return len(events["policy"])


def meters_in(t0, t1):
    with events_lock:
        return [e for t, e in events["meters"] if t0 <= t < t1]


def ctl(*args):
    r = subprocess.run([echoelctl, "--socket", control] + list(args), capture_output=True,
                       text=True, timeout=20)
    if r.returncode != 0:
        fail("echoelctl %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def tail_db():
    return float(ctl("get", "fir.tail_db").strip())


def expect_lines(text, patterns, what):
    for p in patterns:
        if not re.search(p, text, re.M):
            fail("%s: no line matching '%s' in:\n%s" % (what, p, text))


def check_state(mode, thermal, level, tail, what):
    """status, the engine and the fir all show the state (the fir's tail once applied)."""
    st = wait_until(lambda: (lambda s: s if s["policy"] and s["policy"]["mode"] == mode and
                             s["policy"]["thermal"] == thermal and
                             s["workers"] == workers_at(level) else None)(status()),
                    "%s: status with mode %s, thermal %s, %d workers" %
                    (what, mode, thermal, workers_at(level)))
    a = st["policy"]["actions"]
    if a["level"] != level or a["workers"] != workers_at(level) or a["fir_tail_db"] != tail:
        fail("%s: actions %s, expected level %d, %d workers, FIR tail %d" %
             (what, a, level, workers_at(level), tail))
    wait_until(lambda: tail_db() == tail, "%s: fir.tail_db %d" % (what, tail))
    return st


def wait_event(since, pred, what):
    return wait_until(lambda: next((e for e in policy_events(since) if pred(e)), None),
                      "policy event: " + what)


def meter_rate(what):
    """Meter events a 60 Hz subscriber gets in one second (after a settling 0.3 s), and the
    median gap between them by the daemon's own timestamps. The count has an upper bound the
    daemon sets (the rate it serves); below that it only measures how loaded the machine is. A
    tick the machine delays leaves one long and one short gap, so the median gap is the rate."""
    time.sleep(0.3)
    t0 = time.monotonic()
    time.sleep(1.0)
    ms = meters_in(t0, t0 + 1.0)
    gaps = sorted(b["time"] - a["time"] for a, b in zip(ms, ms[1:]))
    gap = gaps[len(gaps) // 2] if gaps else float("inf")
    note("%s: %d meter events in 1 s, median gap %.1f ms" % (what, len(ms), gap * 1e3))
    if len(ms) < 3:
        fail("%s: only %d meter events in 1 s" % (what, len(ms)))
    return len(ms), gap


# ---- 1. on AC, charging ----
st = check_state("unrestricted", "nominal", 0, 0, "on AC")
p = st["policy"]
if p["mode_reason"] != "ac" or p["mode_pinned"] or p["poll_ms"] != POLL_MS or p["uevents"]:
    fail("on AC: policy %s" % p)
if p["sysfs_root"] != sysfs:
    fail("status policy.sysfs_root %s" % p["sysfs_root"])
if ncpu < 2:
    note("1 CPU: the policy runs 0 workers in every state; the worker count cannot drop")
note("on AC: unrestricted, %d workers (ncpu %d), fir.tail_db 0" % (st["workers"], ncpu))
# The tone's level through the fir, once the IR has filled: the reference for every sample.
time.sleep(0.6)
t_ref = time.monotonic()
# at least 0.4 s and 5 samples (a loaded machine may deliver fewer than 60/s)
time.sleep(0.4)
ref = wait_until(lambda: [m for m in meters_in(t_ref, float("inf"))][:24] if
                 len(meters_in(t_ref, float("inf"))) >= 5 else None, "5 meter events")
ref = sorted(m["nodes"]["meter"]["rms_db"][0] for m in ref)
ref_db = ref[len(ref) // 2]
if not -40 < ref_db < -5:
    fail("the meter reads %.1f dB: not the tone through the fir" % ref_db)
note("the meter reads the tone at %.2f dB RMS" % ref_db)
late0 = st["late_cycles"]

# ---- 2. discharging at 15 % ----
# The files are written in an order where every intermediate tree still reads unrestricted (AC
# online), so the one change the policy can see is the last write. The audio must not notice:
# no late cycle from the write until the actions are all applied (the FIR crossfade done). This
# machine's cores are shared, and the dummy clock counts a cycle late whenever the host delays
# the process, with no change at all (a few in 30 s under a parallel build); so a transition
# with late cycles is tried again, from AC, up to three times: a daemon that glitches on the
# change fails all three, a busy host hardly ever.
for attempt in range(1, 4):
    n0 = n_policy_events()
    late_before = status()["late_cycles"]
    write(os.path.join(bat, "capacity"), "15")
    write(os.path.join(bat, "status"), "Discharging")
    t_change = time.monotonic()
    write(os.path.join(ac, "online"), "0")
    ev = wait_event(n0, lambda e: e["mode"] == "low", "mode low")
    t_event = time.monotonic() - t_change
    note("discharging at 15 %%: policy event mode %s (%s) after %.2f s" %
         (ev["mode"], ev["mode_reason"], t_event))
    if ev["mode_reason"] != "below-low" or ev["capacity"] != 15 or \
       ev["actions"]["fir_tail_db"] != -60:
        fail("the mode-low event: %s" % ev)
    bad = [e["mode"] for e in policy_events(n0) if e["mode"] != "low"]
    if bad:
        fail("policy events with other modes before low: %s" % bad)
    st = check_state("low", "nominal", 2, -60, "discharging at 15 %")
    late_after = status()["late_cycles"]
    if late_after == late_before:
        break
    note("attempt %d: late_cycles %d -> %d across the change to low" %
         (attempt, late_before, late_after))
    if attempt == 3:
        fail("late cycles across the change to low, three times out of three")
    n0 = n_policy_events()
    write(os.path.join(bat, "status"), "Charging")
    write(os.path.join(ac, "online"), "1")
    wait_event(n0, lambda e: e["mode"] == "unrestricted", "mode unrestricted (retry)")
    check_state("unrestricted", "nominal", 0, 0, "on AC again (retry)")
if st["policy"]["poll_ms"] != 2 * POLL_MS:
    fail("low and cool: poll_ms %d, expected %d (poll_factor 2)" %
         (st["policy"]["poll_ms"], 2 * POLL_MS))
out = ctl("policy")
expect_lines(out, [r"^mode +low \(below-low\)$", r"^thermal +nominal ",
                   r"^battery +15 %$", r"^scales +0 worker threads, FIR tail -60 dB, meters 10/s",
                   r"^  class/power_supply/BAT0/capacity +15$",
                   r"^  class/power_supply/BAT0/status +Discharging$",
                   r"^  class/power_supply/AC/online +0$",
                   r"^  class/thermal/thermal_zone0/temp +40000$"], "echoelctl policy (low)")
n_rate_low, gap_low = meter_rate("low")
if n_rate_low > 10 + 2 or not 0.05 < gap_low < 0.15:
    fail("low: %d meter events in 1 s at a 60 Hz subscription, median gap %.1f ms; expected "
         "10/s" % (n_rate_low, gap_low * 1e3))
# The capacity sitting on and around the low threshold (20 %; low ends at 23 % with the default
# 3-point hysteresis): low stays, no event. Each value held longer than a poll (2 × poll_ms in
# low).
for pct in (20, 21, 22, 20, 22):
    write(os.path.join(bat, "capacity"), str(pct))
    time.sleep(2.5 * POLL_MS / 1000)
    check_state("low", "nominal", 2, -60, "capacity %d %% (on the low threshold)" % pct)
# A reload that leaves [policy] alone keeps the policy's state: at 22 % a policy started afresh
# would decide normal from its first reading (bench/soak found reloads forgetting it).
ctl("reload")
time.sleep(2.5 * POLL_MS / 1000)
check_state("low", "nominal", 2, -60, "capacity 22 % after a reload")
write(os.path.join(bat, "capacity"), "15")
if len(policy_events(n0)) != 1:
    fail("discharging at 15 %% (and around 20 %%): %d policy events, expected one" %
         len(policy_events(n0)))
if len(log_lines(r"policy: mode low")) != attempt:
    fail("expected %d 'policy: mode low' log line(s), got %s" %
         (attempt, log_lines(r"policy: mode low")))

# ---- 3. garbage in capacity, then fixed ----
n0 = n_policy_events()
write(os.path.join(bat, "capacity"), "garbage")
wait_until(lambda: log_lines(r"policy: cannot read the power supplies"), "read-error log line")
time.sleep(5 * 2 * POLL_MS / 1000)  # five more polls (low and cool: 2 × poll_ms)
errs = log_lines(r"policy: cannot read")
if len(errs) != 1 or "Invalid argument" not in errs[0] or \
   "keeping the last decision" not in errs[0]:
    fail("garbage capacity: expected one read-error line, got %s" % errs)
st = status()
if st["policy"]["mode"] != "low" or st["workers"] != workers_at(2):
    fail("garbage capacity: decision not kept: mode %s, %d workers" %
         (st["policy"]["mode"], st["workers"]))
if any(e["mode"] != "low" for e in policy_events(n0)):
    fail("garbage capacity changed the mode: %s" % [e["mode"] for e in policy_events(n0)])
expect_lines(ctl("policy"), [r"^  class/power_supply/BAT0/capacity +\(Invalid argument\)$"],
             "echoelctl policy (garbage)")
note("garbage capacity: one log line (%s), mode kept low" % errs[0].strip())
write(os.path.join(bat, "capacity"), "15")
wait_until(lambda: log_lines(r"policy: reading sysfs works again"), "recovery log line")
time.sleep(3 * 2 * POLL_MS / 1000)
if len(log_lines(r"policy: reading sysfs works again")) != 1 or \
   len(log_lines(r"policy: cannot read")) != 1:
    fail("after the fix: expected one error and one recovery line")
check_state("low", "nominal", 2, -60, "capacity fixed")
note("capacity fixed: one recovery line, still low")

# ---- 4. back on AC ----
n0 = n_policy_events()
write(os.path.join(ac, "online"), "1")
wait_event(n0, lambda e: e["mode"] == "unrestricted", "mode unrestricted (AC back)")
check_state("unrestricted", "nominal", 0, 0, "AC back")
n_rate_high, gap_high = meter_rate("unrestricted")
if n_rate_high > 60 + 2 or not 1 / 120 < gap_high < 1 / 40:
    fail("unrestricted: %d meter events in 1 s at a 60 Hz subscription, median gap %.1f ms; "
         "expected 60/s" % (n_rate_high, gap_high * 1e3))
if gap_low < 3 * gap_high:
    fail("meter gaps %.1f ms unrestricted vs %.1f ms low: not following the tier" %
         (gap_high * 1e3, gap_low * 1e3))

# ---- 5. a thermal zone through its passive trip and back ----
n0 = n_policy_events()


def temp(mc, what, state, level, tail, hold=0.0):
    """Sets the zone's temperature and waits for the state; with hold, a state that should stay
    as it is: checked after hold seconds (more than a poll interval), so the value was read."""
    write(os.path.join(zone, "temp"), str(mc))
    time.sleep(hold)
    check_state("unrestricted", state, level, tail, "%s (%d m°C)" % (what, mc))


temp(PASSIVE - FAIR_MARGIN + 1000, "within the fair margin", "fair", 1, -90)
temp(PASSIVE, "exactly on the passive trip", "serious", 2, -60)
n_serious = n_policy_events()
# Sitting on the trip and jittering just under it, above trip - hysteresis: serious stays.
for mc in (PASSIVE, PASSIVE - 500, PASSIVE, PASSIVE - HYST + 200, PASSIVE - 1000, PASSIVE):
    temp(mc, "on the passive boundary", "serious", 2, -60, hold=1.5 * POLL_MS / 1000)
if n_policy_events() != n_serious:
    fail("a temperature on the passive trip flapped: %d policy events" %
         (n_policy_events() - n_serious))
temp(PASSIVE - HYST - 1000, "below trip - hysteresis", "fair", 1, -90)
n_fair = n_policy_events()
fair_at = PASSIVE - FAIR_MARGIN
for mc in (fair_at, fair_at - 1000, fair_at, fair_at - HYST + 300, fair_at):
    temp(mc, "on the fair boundary", "fair", 1, -90, hold=1.5 * POLL_MS / 1000)
if n_policy_events() != n_fair:
    fail("a temperature on the fair threshold flapped: %d policy events" %
         (n_policy_events() - n_fair))
temp(fair_at - HYST - 5000, "cool again", "nominal", 0, 0)
time.sleep(2 * POLL_MS / 1000)
seq = [e["thermal"] for e in policy_events(n0)]
if seq != ["fair", "serious", "fair", "nominal"]:
    fail("thermal policy events %s, expected fair, serious, fair, nominal" % seq)
for e in policy_events(n0)[:3]:
    if e.get("zone") != "thermal_zone0":
        fail("thermal event names zone %r, expected thermal_zone0" % e.get("zone"))
note("thermal: events %s; no flapping on the passive trip nor the fair threshold" % seq)

# ---- 6. on battery, then the battery unplugged ----
n0 = n_policy_events()
write(os.path.join(ac, "online"), "0")
wait_event(n0, lambda e: e["mode"] == "low", "mode low (AC unplugged)")
check_state("low", "nominal", 2, -60, "AC unplugged")
n0 = n_policy_events()
os.rename(bat, os.path.join(tmp, "BAT0.unplugged"))  # at once, as a device vanishes
ev = wait_event(n0, lambda e: e["mode"] == "unrestricted", "mode unrestricted (no battery)")
if ev["mode_reason"] != "no-battery" or ev["capacity"] != -1:
    fail("battery removed: event %s" % {k: ev[k] for k in ("mode", "mode_reason", "capacity")})
check_state("unrestricted", "nominal", 0, 0, "no battery")
time.sleep(2 * POLL_MS / 1000)
if len(policy_events(n0)) != 1:
    fail("battery removed: %d policy events, expected one" % len(policy_events(n0)))
if log_lines(r"policy: cannot read")[1:]:
    fail("the unplug was taken for a read error: %s" % log_lines(r"policy: cannot read"))
note("battery removed: unrestricted (%s)" % ev["mode_reason"])

# ---- 7. pinned by the user ----
n0 = n_policy_events()
ctl("policy", "set", "mode=low")
ev = wait_event(n0, lambda e: e["mode"] == "low" and e["mode_pinned"], "mode low, pinned")
check_state("low", "nominal", 2, -60, "pinned low")
expect_lines(ctl("policy"), [r"^mode +low \(no-battery, pinned\)$"], "echoelctl policy (pinned)")
time.sleep(3 * POLL_MS / 1000)
if status()["policy"]["mode"] != "low":
    fail("the pin did not hold")
n0 = n_policy_events()
# IR preparation is high-priority background work: throttled in low (sleeps between chunks of
# resampling and transforms), at full speed when unrestricted. A 44.1 kHz IR of 48000 frames:
# about 52000 taps at 48 kHz, so several chunks of each.
ir44 = os.path.join(tmp, "ir44.wav")
with wave.open(ir44, "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(44100)
    w.writeframes(b"".join(struct.pack("<h", round(8000 * rng.gauss(0, 1) * math.exp(-i / 4000.0)))
                           for i in range(48000)))


def add_fir_and_count(what):
    """Adds a fir with ir44, removes it again; the throttle counters before and after."""
    before = status()["policy"]["ir_preparation_throttled"]
    ctl("node", "add", "prep", "fir", "--input", "tone", "ir=" + ir44)
    after = status()["policy"]["ir_preparation_throttled"]
    ctl("node", "rm", "prep")
    note("%s: IR preparation throttled after %d chunks, slept %.2f ms" %
         (what, after["chunks"] - before["chunks"], after["slept_ms"] - before["slept_ms"]))
    return after["chunks"] - before["chunks"], after["slept_ms"] - before["slept_ms"]


if status()["policy"]["actions"]["ir_preparation"] != "throttle":
    fail("pinned low: IR preparation is %r, expected throttle" %
         status()["policy"]["actions"]["ir_preparation"])
chunks, slept = add_fir_and_count("pinned low")
if chunks < 2 or slept <= 0.0:
    fail("pinned low: a 52000-tap IR's preparation was throttled after %d chunks (%.3f ms "
         "slept); expected its resampling and transform chunks" % (chunks, slept))
n0 = n_policy_events()
ctl("policy", "set", "mode=auto")
wait_event(n0, lambda e: e["mode"] == "unrestricted" and not e["mode_pinned"], "released pin")
check_state("unrestricted", "nominal", 0, 0, "pin released")
chunks, slept = add_fir_and_count("unrestricted")
if chunks != 0 or slept != 0.0:
    fail("unrestricted: IR preparation was throttled (%d chunks, %.3f ms)" % (chunks, slept))
note("pinned low by echoelctl, released by mode=auto")

# ---- the audio, all along ----
st = status()
if st["xruns"] != 0:
    fail("%d xruns over the run" % st["xruns"])
# Each sample is one cycle's RMS: 256 frames hold 5.3 periods of the tone, so it varies by ~0.2 dB
# with the phase; a -60 dB cut moves the level by ~0.01 dB; a dropped block or a crossfade that
# dips would move it by far more than 0.5 dB.
with events_lock:
    samples = [(t, m) for t, m in events["meters"] if t >= t_ref]
off = [(round(t - t_start, 2), m["nodes"]["meter"]["rms_db"]) for t, m in samples
       if any(abs(v - ref_db) > 0.5 for v in m["nodes"]["meter"]["rms_db"])]
if off:
    fail("%d of %d meter samples off the tone's %.2f dB by more than 0.5 dB: %s" %
         (len(off), len(samples), ref_db, off[:10]))
dev = max(abs(v - ref_db) for _, m in samples for v in m["nodes"]["meter"]["rms_db"])
note("audio: %d meter samples over %.0f s all within %.2f dB of %.2f dB; xruns 0; late cycles "
     "over the whole run (host included) %d" %
     (len(samples), samples[-1][0] - t_ref, dev, ref_db, st["late_cycles"] - late0))

# ---- the uevent path ----
real_psu = "/sys/class/power_supply"
has_psu = os.path.isdir(real_psu) and os.listdir(real_psu)
print("# skip (the uevent part only): echoeld opens its NETLINK_KOBJECT_UEVENT socket only when "
      "[policy] sysfs_root is /sys (uevents describe the real /sys, not a fake tree: status "
      "showed uevents=false here) and drops every datagram not sent by the kernel (port 0), so "
      "a test cannot inject one; the kernel sends them only for real power_supply and thermal "
      "devices (%s). The poll path above proves the same decisions and actions." %
      ("a test cannot plug in or heat up those of this machine" if has_psu
       else "this machine has none"))

# ---- 8. status shows the latest reading, not the one of the last change ----
# A reading that changes no state still is what `status` and `echoelctl policy` must show (the
# inputs read, which files, which values: issue 7, docs/protocol.md). Checked last, and its
# failure reported after the clean stop, so that the rest is checked whatever it shows.
write(os.path.join(zone, "temp"), "50000")
temp_file = "class/thermal/thermal_zone0/temp"
stale = None
end = time.monotonic() + WAIT
while True:
    p = status()["policy"]
    shown = [i for i in p["inputs"] if i["file"] == temp_file]
    if p.get("zone_temp_c") == 50.0 and shown == [{"file": temp_file, "value": "50000"}]:
        break
    if time.monotonic() > end:
        stale = ("%.1f s after the zone went to 50000 m°C (%d polls, no state change), status "
                 "shows zone_temp_c %s and inputs %s: the reading of the last change, not the "
                 "latest" % (WAIT, WAIT * 1000 // POLL_MS, p.get("zone_temp_c"), shown))
        break
    time.sleep(0.1)
if not stale:
    out = ctl("policy")
    if not re.search(r"^  class/thermal/thermal_zone0/temp +50000$", out, re.M):
        stale = "echoelctl policy does not show the zone's latest reading:\n" + out
if not stale:
    note("status and echoelctl policy show the latest reading")

# ---- a clean stop ----
stop_reader.set()
proc.send_signal(signal.SIGTERM)
try:
    rc = proc.wait(timeout=20)
except subprocess.TimeoutExpired:
    fail("echoeld did not exit within 20 s of SIGTERM")
if rc != 0:
    fail("echoeld exited %d after SIGTERM" % rc)
if log_lines(r"RealtimeSanitizer|real-time unsafe|ThreadSanitizer|AddressSanitizer|"
             r"runtime error"):
    fail("sanitizer report in the daemon's log")
if log_lines(r"clipped"):
    fail("the output clipped: %s" % log_lines(r"clipped")[0])
if stale:
    fail(stale)
note("ok: policy end to end (modes, thermal hysteresis, read errors, unplug, pin, meter rate)")
cleanup()

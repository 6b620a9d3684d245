"""The drills of bench/ as CI runs them (issue 16): the load drill's 60-second smoke variant on
PostgreSQL + Redis must end with no error at all, the fault drill's smoke variant (a Redis and
a PostgreSQL restart under load, servers of its own) must pass, and so must the race drill on
both backends."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from bench.drill_faults import Fault, FaultDrill, Journey
from bench.drill_load import Drill, report
from bench.drill_races import SUCCESS, verdict
from tests.conftest import require_postgres_and_redis
from tests.processes import ROOT


def test_the_load_drill_smoke_passes():
    require_postgres_and_redis()
    done = subprocess.run(
        [sys.executable, "bench/drill_load.py", "--smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "errors: 0" in done.stdout and "verdict: PASS" in done.stdout
    completed = int(done.stdout.split("completed flows: ")[1].split()[0])
    assert completed >= 250  # 5 flows/s for 60 s, every one of them through


def test_the_drill_fails_on_any_error(capsys):
    run = Drill("http://localhost:1", "c", "s", jwks=None)  # type: ignore[arg-type]
    run.completed = run.id_tokens = 10
    assert report(run, 1.0, 100.0, 101.0) == 0
    run.errors["token:500"] += 1
    assert report(run, 1.0, 100.0, 101.0) == 1
    assert "verdict: FAIL" in capsys.readouterr().out


def test_the_race_drill_passes(backend):
    done = subprocess.run(
        [sys.executable, "bench/drill_races.py", "--backend", backend.name],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "verdict: PASS" in done.stdout
    for name in SUCCESS:
        assert f"{name:18s} successes" in done.stdout, name


def test_the_race_drill_fails_on_two_winners_or_a_leak(capsys):
    results = {name: Counter({status: 1, 400: 19}) for name, status in SUCCESS.items()}
    assert verdict(results, leaked=0) == 0
    assert verdict(results, leaked=1) == 1
    results["email code"] = Counter({303: 2, 410: 18})
    assert verdict(results, leaked=0) == 1
    assert "verdict: FAIL" in capsys.readouterr().out


def test_the_fault_drill_smoke_passes():
    done = subprocess.run(
        [sys.executable, "bench/drill_faults.py", "--smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "outside a fault's window: 0" in done.stdout and "verdict: PASS" in done.stdout
    assert "every person signs in again afterwards: yes" in done.stdout


def test_the_fault_drill_fails_outside_a_window_or_without_recovery():
    faults = FaultDrill.__new__(FaultDrill)
    faults.faults = [Fault("Redis restart", began=10.0, over=11.0)]
    faults.journeys = [Journey(12.0, 12.5, ""), Journey(10.5, 11.5, "signin:503")]
    assert faults.judge()
    faults.faults = [Fault("Redis restart", began=10.0, over=11.0)]
    faults.journeys.append(Journey(60.0, 60.5, "token:500"))  # long after the fault
    assert not faults.judge()
    faults.faults = [Fault("Redis restart", began=10.0, over=11.0)]
    faults.journeys = [Journey(10.5, 11.5, "signin:503"), Journey(50.0, 50.5, "")]
    assert not faults.judge()  # the first success came 39.5 s after: no recovery in 30 s

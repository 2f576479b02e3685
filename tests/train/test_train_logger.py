"""metrics.csv across a resume: rows after the checkpoint are dropped, the clocks continue."""

from __future__ import annotations

import csv

from train.logger import METRIC_FIELDS, METRICS_CSV, RunLogger


def test_wall_and_cpu_seconds_continue_after_resume(tmp_path):
    with open(tmp_path / METRICS_CSV, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=METRIC_FIELDS)
        w.writeheader()
        w.writerow({"step": 1, "wall_s": 100.0, "cpu_s": 60.0, "loss": 0.5})
        w.writerow({"step": 2, "wall_s": 200.0, "cpu_s": 120.0, "loss": 0.4})  # after the checkpoint: dropped
    log = RunLogger(tmp_path, enabled=True, start_step=1, total_steps=3, progress=False)
    log.log(2, {"loss": 0.3})
    log.close()
    rows = list(csv.DictReader(open(tmp_path / METRICS_CSV, newline="")))
    assert [r["step"] for r in rows] == ["1", "2"] and rows[1]["loss"] == "0.3"
    assert 100.0 <= float(rows[1]["wall_s"]) < 200.0
    assert 60.0 <= float(rows[1]["cpu_s"]) < 120.0

"""Run logs: ``metrics.csv``, ``validation.csv``, TensorBoard, and the progress bar.

Only rank 0 writes. On resume from step ``s`` the CSVs drop rows after ``s`` (a killed run
may have logged steps its last checkpoint does not cover) and TensorBoard purges events
after ``s``, so a resumed run's logs read as if it had never stopped. ``wall_s`` and
``cpu_s`` continue from the last row kept, so they add up over the pieces of a resumed run
(the time between that row and the kill is not counted).
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Any

from void import atomic
from void.deps import require

METRICS_CSV = "metrics.csv"
VALIDATION_CSV = "validation.csv"
TENSORBOARD_DIR = "tensorboard"

METRIC_FIELDS = (
    "step", "wall_s", "cpu_s", "loss", "loss_edit", "loss_keep", "lr", "samples_per_s",
    "val_psnr_removed", "val_psnr_affected", "val_psnr_keep", "val_psnr_all",
)
VALIDATION_FIELDS = ("step", "split", "samples", "region", "pixels", "model_psnr_db", "identity_psnr_db")


def _truncate_csv(path: Path, fields: tuple[str, ...], last_step: int) -> list[dict[str, str]]:
    """Keep the header and the rows with ``step <= last_step`` (rewritten atomically); return them."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("step", "").isdigit() and int(r["step"]) <= last_step]
    with atomic.atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return rows


def _last_seconds(rows: list[dict[str, str]], column: str) -> float:
    """The last value of ``column`` in the kept rows (0 for a fresh run)."""
    for row in reversed(rows):
        try:
            return float(row.get(column) or "")
        except ValueError:
            continue
    return 0.0


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.6g}"
    return value


class RunLogger:
    def __init__(self, run_dir: Path, *, enabled: bool, start_step: int, total_steps: int, progress: bool):
        self.enabled = enabled
        self.run_dir = Path(run_dir)
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.wall_before = self.cpu_before = 0.0  # seconds logged by the runs this one resumes
        self._files: dict[str, Any] = {}
        self._writers: dict[str, csv.DictWriter] = {}
        self.tb = None
        self.bar = None
        if not enabled:
            return
        for name, fields in ((METRICS_CSV, METRIC_FIELDS), (VALIDATION_CSV, VALIDATION_FIELDS)):
            path = self.run_dir / name
            kept = _truncate_csv(path, fields, start_step)
            if name == METRICS_CSV:
                self.wall_before, self.cpu_before = _last_seconds(kept, "wall_s"), _last_seconds(kept, "cpu_s")
            fresh = not path.is_file() or path.stat().st_size == 0
            fh = open(path, "a", newline="", encoding="utf-8")
            writer = csv.DictWriter(fh, fieldnames=fields)
            if fresh:
                writer.writeheader()
            self._files[name], self._writers[name] = fh, writer
        require("tensorboard")
        from torch.utils.tensorboard import SummaryWriter

        self.tb = SummaryWriter(str(self.run_dir / TENSORBOARD_DIR), purge_step=start_step + 1)
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total_steps, initial=start_step, desc="train", unit="step", dynamic_ncols=True, smoothing=0.05
            )

    def wall_s(self) -> float:
        return time.perf_counter() - self.t0

    def log(self, step: int, scalars: dict[str, float]) -> None:
        """One row of metrics.csv and the same scalars in TensorBoard."""
        if not self.enabled or not scalars:
            return
        # CPU seconds beside wall seconds: on a shared machine only the former is comparable.
        row = {
            "step": step,
            "wall_s": round(self.wall_before + self.wall_s(), 3),
            "cpu_s": round(self.cpu_before + time.process_time() - self.cpu0, 3),
        }
        row.update({k: _fmt(v) for k, v in scalars.items() if k in METRIC_FIELDS})
        self._writers[METRICS_CSV].writerow(row)
        self._files[METRICS_CSV].flush()
        for key, value in scalars.items():
            if value is not None and math.isfinite(value):
                tag = key.replace("val_", "val/") if key.startswith("val_") else f"train/{key}"
                self.tb.add_scalar(tag, value, step)
        self.tb.flush()

    def log_validation(self, step: int, rows: list[dict[str, Any]]) -> None:
        if not self.enabled:
            return
        for row in rows:
            self._writers[VALIDATION_CSV].writerow({k: _fmt(row.get(k)) for k in VALIDATION_FIELDS} | {"step": step})
            for method in ("model", "identity"):
                value = row[f"{method}_psnr_db"]
                if math.isfinite(value):
                    self.tb.add_scalar(f"val_{method}/psnr_{row['region']}", value, step)
        self._files[VALIDATION_CSV].flush()
        self.tb.flush()

    def progress(self, step: int, loss: float, lr: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", refresh=False)
            self.bar.update(step - self.bar.n)

    def write(self, message: str) -> None:
        """A line that does not break the progress bar."""
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.tb is not None:
            self.tb.close()
        for fh in self._files.values():
            fh.close()
        self._files.clear()

"""The job runner: one worker thread per job takes it through Azure ML's statuses
NotStarted → Queued → Preparing → Running → Finalizing → Completed | Failed | Canceled
(CancelRequested in between when a cancel arrives), stores each in the job's properties.status
and publishes RunStatusChanged (and RunCompleted) for each change.

Preparing downloads the code and inputs and creates the job's MLflow run (run id = job name,
through Azure ML's MLflow API part: `extras["mlflow"].create_job_run`) before the process
starts; Finalizing uploads user_logs/std_log.txt to the workspace blob store
(ExperimentRun/dcid.<job>/user_logs/std_log.txt) and ends the MLflow run if the process left it
running (`extras["mlflow"].end_job_run`, when that part offers it). The "job_failed" fault
(match {"job"}) replaces the command with one that fails (exit code `exit_code`, default 1).
"""
from __future__ import annotations

import logging
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.azure import children

from . import process as job_process
from .definition import TERMINAL
from .events import events_for, experiment_id
from .materialise import InputError, Materialiser, inside, substitute

log = logging.getLogger("azure_emulator.jobs")

MLFLOW_END = {"Completed": "FINISHED", "Failed": "FAILED", "Canceled": "KILLED"}
POLL_SECONDS = 0.2


@dataclass
class JobRun:
    """What the runner knows of one job beyond its ARM body."""

    job_id: str
    name: str
    job_dir: Path
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    error: str = ""
    exit_code: int | None = None
    statuses: list[str] = field(default_factory=list)

    @property
    def log_file(self) -> Path:
        return self.job_dir / "user_logs" / "std_log.txt"


class Runner:
    """Starts, cancels and reports the jobs' worker threads."""

    def __init__(self, context):
        self.context, self.config = context, context.config
        self._runs: dict[str, JobRun] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- control
    def start(self, job_id: str, name: str) -> JobRun:
        run = JobRun(job_id, name, self.config.root / "jobs" / name)
        with self._lock:
            self._runs[name.lower()] = run
        run.statuses.append("NotStarted")
        self._publish(run, "NotStarted")
        threading.Thread(target=self._work, args=(run,), name=f"job-{name}", daemon=True).start()
        return run

    def get(self, name: str) -> JobRun | None:
        with self._lock:
            return self._runs.get(name.lower())

    def request_cancel(self, name: str) -> bool:
        """Mark the job CancelRequested and signal its worker; False when it has ended already."""
        run = self.get(name)
        if run is None or run.done.is_set():
            return False
        if not run.cancel.is_set():
            run.cancel.set()
            self._set_status(run, "CancelRequested")
        return True

    def active(self) -> list[str]:
        with self._lock:
            return [r.name for r in self._runs.values() if not r.done.is_set()]

    def stop(self) -> None:
        """Cancel every job still going and wait (briefly) for the workers."""
        for name in self.active():
            self.request_cancel(name)
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.done.wait(job_process.KILL_GRACE_SECONDS * 2)

    # ----------------------------------------------------------------- worker
    def _work(self, run: JobRun) -> None:
        final = "Failed"
        try:
            final = self._steps(run)
        except InputError as error:
            run.error = str(error)
        except Exception as error:  # noqa: BLE001 - the job fails, the log keeps the trace
            log.exception("job %s failed in the emulator", run.name)
            run.error = f"the emulator failed to run the job: {error}"
        if run.error:
            _append(run.log_file, f"\n[azure-emulator] job failed: {run.error}\n")
        self._finish(run, "Canceled" if run.cancel.is_set() else final)

    def _steps(self, run: JobRun) -> str:
        for status in ("Queued", "Preparing"):
            if run.cancel.is_set():
                return "Canceled"
            self._set_status(run, status)
        job = self.context.store.get(run.job_id)
        properties = job["properties"]
        materialiser = Materialiser(self.context, run.job_dir)
        code_dir = materialiser.code(properties.get("codeId"))
        values = materialiser.inputs(properties.get("inputs") or {})
        outputs = self._outputs(run, properties.get("outputs") or {})
        command = substitute(properties["command"], values, outputs)
        experiment = self._create_mlflow_run(job)
        if run.cancel.is_set():
            return "Canceled"
        fault = self.context.faults.take("job_failed", job=run.name) if self.context.faults else None
        if fault is not None:
            command = _failing_command(fault)
        env = job_process.job_environment(self.context, job, experiment)
        self._set_status(run, "Running")
        _append(run.log_file, "")
        child = job_process.start(command, code_dir, env, run.log_file)
        children.add(child.pid, f"job {run.name}")
        try:
            while child.poll() is None:
                if run.cancel.wait(POLL_SECONDS):
                    job_process.kill(child)
            run.exit_code = child.returncode
        finally:
            job_process.kill_group(child)
            children.remove(child.pid)
        if run.cancel.is_set():
            return "Canceled"
        if run.exit_code != 0:
            run.error = f"the command exited with code {run.exit_code}"
            return "Failed"
        return "Completed"

    def _finish(self, run: JobRun, final: str) -> None:
        try:
            if "Running" in run.statuses or final != "Canceled":
                self._set_status(run, "Finalizing")
            self._upload_log(run)
            self._end_mlflow_run(run, final)
        except Exception:  # noqa: BLE001 - finishing must not leave the job unfinished
            log.exception("job %s: finalizing failed", run.name)
        self._set_status(run, final)
        run.done.set()

    # ---------------------------------------------------------------- helpers
    def _set_status(self, run: JobRun, status: str) -> None:
        def change(body: dict[str, Any]) -> None:
            body["properties"]["status"] = status

        if self.context.store.update(run.job_id, change) is None:
            return
        run.statuses.append(status)
        log.info("job %s: %s", run.name, status)
        self._publish(run, status)

    def _publish(self, run: JobRun, status: str) -> None:
        job = self.context.store.get(run.job_id)
        if job is None or self.context.events is None:
            return
        experiment = experiment_id(self.config.workspace_id, job["properties"].get("experimentName") or "Default")
        for event in events_for(self.config.workspace_id, job, status, experiment):
            try:
                self.context.events.publish(self.config.workspace_id, event)
            except Exception:  # noqa: BLE001 - a publisher failure must not stop the job
                log.exception("job %s: publishing %s failed", run.name, event["eventType"])

    def _outputs(self, run: JobRun, outputs: dict[str, Any]) -> dict[str, str]:
        paths = {}
        for name in outputs:
            folder = inside(run.job_dir / "outputs", name, what=f"output {name!r}")
            folder.mkdir(parents=True, exist_ok=True)
            paths[name] = str(folder.resolve())
        return paths

    def _create_mlflow_run(self, job: dict[str, Any]) -> str:
        """Create the job's MLflow run; the experiment id the events and the process use."""
        properties = job["properties"]
        experiment_name = properties.get("experimentName") or "Default"
        experiment = experiment_id(self.config.workspace_id, experiment_name)
        mlflow = self.context.extras.get("mlflow")
        if mlflow is None:
            log.warning("job %s: no MLflow API part; the job's run is not created", job["name"])
            return experiment
        mlflow.create_job_run(experiment_name, run_id=job["name"], tags=dict(properties.get("tags") or {}))
        return experiment

    def _end_mlflow_run(self, run: JobRun, final: str) -> None:
        mlflow = self.context.extras.get("mlflow")
        if mlflow is None:
            return
        if not hasattr(mlflow, "end_job_run"):
            log.warning("job %s: the MLflow API part cannot end runs; the run keeps its status", run.name)
            return
        mlflow.end_job_run(run.name, MLFLOW_END[final])

    def _upload_log(self, run: JobRun) -> None:
        if not run.log_file.exists():
            return
        blob = f"ExperimentRun/dcid.{run.name}/user_logs/std_log.txt"
        container = self.context.blob_service().get_container_client(self.config.workspace_container)
        container.upload_blob(blob, run.log_file.read_bytes(), overwrite=True)


def _failing_command(fault: dict[str, Any]) -> str:
    code = int(fault.get("exit_code") or 1)
    message = str(fault.get("message") or f"injected fault {fault.get('id', '')}: job_failed")
    return f"echo {shlex.quote(message)} >&2; exit {code}"


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def is_terminal(status: str) -> bool:
    return status in TERMINAL

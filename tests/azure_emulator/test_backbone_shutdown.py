"""Stopping the stack leaves no process behind: a job's process group that outlives the emulator
(killed before its own stop ended the job) is ended from children.json by AzureStack.stop."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from emulators.azure import children
from tests.azure_emulator.conftest import EmulatorClient, running_azure_stack

pytestmark = pytest.mark.integration

API = {"api-version": "2025-01-01-preview"}
# Ignores SIGTERM (and so does its sleep): only a SIGKILL of the group ends it.
STUBBORN = "trap '' TERM; sleep 300 & echo $! > child.pid; wait"


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group `pgid`."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def wait_until(check, within: float = 60.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not so after {within} s")


def test_stopping_the_stack_ends_a_job_the_killed_emulator_left_running(tmp_path):
    with running_azure_stack(tmp_path, host=False) as stack:
        client = EmulatorClient(stack)
        answer = client.arm("PUT", "/jobs/stubborn", token=client.token(), params=API, json={"properties": {
            "jobType": "Command", "command": STUBBORN, "environmentId": "azureml:AzureML-sklearn-1.5:1"}})
        assert answer.status_code == 201, answer.text
        pid_file = stack.emulator_root / "jobs" / "stubborn" / "code" / "child.pid"
        sleeper = int(wait_until(lambda: pid_file.exists() and pid_file.read_text().strip()))
        pgid = os.getpgid(sleeper)
        recorded = json.loads((stack.emulator_root / children.FILE_NAME).read_text())
        assert [entry["name"] for entry in recorded.values() if entry["pgid"] == pgid] == ["job stubborn"]
        emulator = next(p for p in stack.processes if p.name == "azure-emulator")
        emulator.stop_timeout = 0.5  # SIGKILLed while its stop still waits for the job's grace period
    # running_azure_stack has called stack.stop()
    assert wait_until(lambda: not group_members(pgid), within=10) is True
    assert not (stack.emulator_root / children.FILE_NAME).exists()


def test_the_record_follows_adds_and_removes(tmp_path):
    path = children.install(tmp_path)
    try:
        children.add(os.getpid(), "me")
        children.add(os.getpgid(0), "my group")
        children.remove(os.getpgid(0))
        gone = subprocess.Popen(["true"], start_new_session=True)
        gone.wait()
        children.add(gone.pid, "ended")
        children.add(os.getpid(), "me again")  # drops the group that has no member left
        assert children.recorded(tmp_path) == [{"pgid": os.getpid(), "name": "me again",
                                                "start_time": children.start_time(os.getpid())}]
        assert path == tmp_path / children.FILE_NAME
    finally:
        children._root.clear()

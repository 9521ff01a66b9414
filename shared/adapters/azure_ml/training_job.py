"""The Azure ML command job of a training request, and the data asset that records its training set.

Training data: each accepted file version is kept as an immutable copy in the data container,
`_accepted/<sha256>` (ingestion copies the validated bytes there; the blob trigger skips that
prefix), which Azure ML reads through the datastore `config.data_datastore` (registered over
that container), as `azureml://datastores/<datastore>/paths/_accepted/<sha256>`. The copies stay
in the one container the datastore is registered over, so a deployment needs no second datastore;
re-uploading or deleting an original changes nothing a job reads. (Versions accepted before copies
were kept are read from their original blob, linked under its own name, as before.) The data
container also keeps files that were rejected, so the job must not read a whole folder:

- lineage: one data asset version per training set, `<model>-training-set:<id[:16]>`,
  type uri_folder over the batches' common folder, tagged with the training-set id and the
  exact blob list (name, ETag, sha256); it is the job's `training_set` input (mode direct:
  recorded in the job's lineage, nothing mounted);
- the data itself: one `uri_file` input per batch (read-only mount); the command links them
  into `training_data/<version id>.csv` (short, whatever the blob name), checks each copy's
  sha256 against the accepted one, and writes the manifest (names, ETags, hashes) to
  `training_set.json`, so train.py computes the same training-set id as the service.

An MLTable data asset could hold the file list in one asset, but the SDK uploads its MLTable
file through the workspace's storage (datastore secrets, blob upload) and fetches its JSON
schema from the internet on every create; the per-file inputs need neither.
"""
from __future__ import annotations

import json
import posixpath
import shlex

from shared.adapters.azure_ml.config import AzureMLConfig
from shared.adapters.azure_ml.errors import azure_step
from shared.domain.batches import BatchRef
from shared.domain.errors import InvalidInput
from shared.domain.training import TRAINING_FLAGS
from shared.ports import TrainingJobRequest

DATA_DIR = "training_data"
MANIFEST_FILE = "training_set.json"
CHECKSUM_FILE = "training_data.sha256"
MAX_TAG_CHARS = 4000


class TrainingJobBuilder:
    """Builds (and registers the lineage of) the command job that runs training/train.py."""

    def __init__(self, ml_client, config: AzureMLConfig):
        self._ml = ml_client
        self.config = config

    def data_asset_name(self, model_name: str) -> str:
        return f"{model_name}-training-set"

    def register_training_set(self, request: TrainingJobRequest) -> str:
        """`azureml:<model>-training-set:<id[:16]>`, created when missing (versions are immutable)."""
        from azure.ai.ml.entities import Data
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

        name, version = self.data_asset_name(request.model_name), request.training_set_id[:16]
        step = f"register data asset {name}:{version} for training job {request.job_name!r}"
        with azure_step(step):
            try:
                self._ml.data.get(name, version=version)
                return f"azureml:{name}:{version}"
            except ResourceNotFoundError:
                pass
            data = Data(
                name=name, version=version, type="uri_folder",
                path=self.datastore_uri(_common_folder([b.stored_at[1] for b in request.inputs]), folder=True),
                description=(f"Training set {request.training_set_id} of {request.model_name}: "
                             f"{len(request.inputs)} file(s) of container {request.inputs[0].container}"),
                tags=_training_set_tags(request),
            )
            try:
                self._ml.data.create_or_update(data)
            except ResourceExistsError:
                pass  # registered concurrently: same id, same content
        return f"azureml:{name}:{version}"

    def command_job(self, request: TrainingJobRequest, data_asset: str):
        """The azure.ai.ml command job for `request` (see the module docstring)."""
        from azure.ai.ml import Input, command

        inputs: dict = {
            "training_set": Input(type="uri_folder", path=data_asset, mode="direct"),
            "model_name": request.model_name,
        }
        shell = [f"mkdir -p {DATA_DIR}"]
        folders = sorted({posixpath.dirname(_input_file(b)) for b in request.inputs} - {""})
        if folders:
            shell.append("mkdir -p " + " ".join(shlex.quote(f"{DATA_DIR}/{f}") for f in folders))
        checksums = []
        for index, batch in enumerate(request.inputs):
            key = f"batch_{index:03d}"
            inputs[key] = Input(type="uri_file", path=self.datastore_uri(batch.stored_at[1]), mode="ro_mount")
            shell.append(f"ln -s ${{{{inputs.{key}}}}} {shlex.quote(f'{DATA_DIR}/{_input_file(batch)}')}")
            if batch.copy_name:
                checksums.append(f"{batch.sha256}  {DATA_DIR}/{_input_file(batch)}")
        if checksums:
            shell.append(f"printf '%s\\n' {' '.join(shlex.quote(c) for c in checksums)} > {CHECKSUM_FILE}")
            shell.append(f"sha256sum --quiet -c {CHECKSUM_FILE}")
        manifest = {"id": request.training_set_id,
                    "batches": [{"name": b.name, "etag": b.etag, "sha256": b.sha256} for b in request.inputs]}
        shell.append(f"printf '%s' {shlex.quote(json.dumps(manifest, separators=(',', ':')))} > {MANIFEST_FILE}")
        train = [
            "python train.py",
            f"--data {DATA_DIR}",
            "--model-name ${{inputs.model_name}}",
            f"--training-set {MANIFEST_FILE}",
            f"--job-name {shlex.quote(request.job_name)}",
            f"--experiment {shlex.quote(request.experiment or self.config.experiment)}",
        ]
        for key, value in sorted(request.parameters.items()):
            if key not in TRAINING_FLAGS:
                raise InvalidInput(f"training job {request.job_name!r}: unknown parameter {key!r} "
                                   f"(known: {sorted(TRAINING_FLAGS)})")
            inputs[key] = value
            train.append(f"{TRAINING_FLAGS[key]} ${{{{inputs.{key}}}}}")
        shell.append(" ".join(train))
        return command(
            name=request.job_name,
            display_name=f"train {request.model_name} ({len(request.inputs)} file(s))",
            description=f"Training set {request.training_set_id}",
            experiment_name=request.experiment or self.config.experiment,
            code=str(self.config.training_code_dir),
            command=" && ".join(shell),
            inputs=inputs,
            environment=self._environment(),
            compute=self.config.compute,
            tags={"model_name": request.model_name, "training_set_id": request.training_set_id},
        )

    def _environment(self):
        value = self.config.environment.strip()
        if value.endswith((".yml", ".yaml")):
            from azure.ai.ml.entities import Environment

            conda = self.config.training_code_dir / value
            return Environment(image=self.config.environment_image, conda_file=str(conda))
        if "@" in value and value.startswith("azureml:"):
            # The SDK resolves "<name>@<label>" but keeps an "azureml:" prefix in the name it looks up.
            value = value[len("azureml:"):]
        return value

    def datastore_uri(self, path: str, folder: bool = False) -> str:
        path = path.strip("/")
        suffix = f"{path}/" if folder and path else path
        return f"azureml://datastores/{self.config.data_datastore}/paths/{suffix}"


def _input_file(batch: BatchRef) -> str:
    """Where the job sees one input under training_data/: a short hash-based name for a kept copy."""
    return f"{batch.id}.csv" if batch.copy_name else batch.name


def _common_folder(names: list[str]) -> str:
    folders = [posixpath.dirname(n) for n in names]
    common = posixpath.commonpath(folders) if all(folders) else ""
    return common


def _training_set_tags(request: TrainingJobRequest) -> dict[str, str]:
    files = json.dumps([{"name": b.name, "etag": b.etag, "sha256": b.sha256} for b in request.inputs],
                       separators=(",", ":"))
    tags = {
        "training_set_id": request.training_set_id,
        "model_name": request.model_name,
        "container": request.inputs[0].container,
        "files": str(len(request.inputs)),
        "first_job": request.job_name,
    }
    if len(files) <= MAX_TAG_CHARS:
        tags["batches"] = files
    return tags

"""Every app setting of the service, declared once: the reader, the README table, the local
sample and the checks of infra/main.bicep all come from this list."""
from __future__ import annotations

from dataclasses import replace

from shared.settings.schema import (
    ALWAYS, BASE_URL, CONTAINER, DEPLOYMENT, ENDPOINT_NAME, GENERATED, GENERATED_MASTER, HOST, NCRONTAB,
    OPTIONAL_FRACTION, OPTIONAL_URL, STORAGE_CONNECTION, TEXT, URL, Setting, choice, choices, integer, key, number,
)

ML_BACKENDS = ("local", "azure")
ALGORITHMS = ("gradient_boosting", "logistic_regression", "random_forest")
GATE_METRICS = ("auc", "accuracy", "f1", "precision", "recall")
DRIFT_CONFIRMATIONS = ("1/1", "2/2", "2/3", "3/3", "2/4", "3/4", "3/5")
RETRAIN_TRIGGERS = ("new_data", "drift", "performance", "estimated", "schedule")
STORAGE_ACCOUNT_NAME = "AzureWebJobsStorage__accountName"
DAY_SECONDS = 86_400
NINETY_DAYS_HOURS = 24 * 90
AUTH_MODE_DOC = "`app-service`: behind App Service authentication the signed-in principal (`X-MS-CLIENT-PRINCIPAL`) decides, also on a signed link; `none`: reviewers name themselves, principal headers are refused (400)"  # noqa: E501
APPROVERS_DOC = "who may approve, reject or roll back (else 403, recorded): comma-separated principal names, Entra object or group ids; empty: anyone with `AUTH_MODE=none`, required with `AUTH_MODE=app-service`"  # noqa: E501


def _section(name: str, *settings: Setting) -> tuple[Setting, ...]:
    return tuple(replace(setting, section=name) for setting in settings)


SETTINGS: tuple[Setting, ...] = (
    *_section(
        "",
        Setting("ML_BACKEND", "ml_backend", choice(ML_BACKENDS), "local",
                "which ML platform the service drives: the local stack (MLflow server, local jobs and "
                "scoring servers) or Azure ML", bicep="azure"),
        Setting("MODEL_NAME", "model_name", TEXT, "diabetes-classifier",
                "the registered model this service trains and acts on; events for other models are ignored"),
        Setting("PUBLIC_BASE_URL", "public_base_url", BASE_URL, "http://127.0.0.1:7071",
                "base URL people use to reach this app (links in notifications)", bicep=DEPLOYMENT),
    ),
    *_section(
        "storage",
        Setting("AzureWebJobsStorage", "connection", STORAGE_CONNECTION, "UseDevelopmentStorage=true",
                "storage of the triggers, data files and state: a connection string, "
                "`UseDevelopmentStorage=true` (Azurite), or an https account URL (then DefaultAzureCredential)",
                secret=True, bicep=None),
        Setting(STORAGE_ACCOUNT_NAME, None, TEXT, "",
                "identity-based storage: while AzureWebJobsStorage is unset, the app uses "
                "`https://<name>.blob.core.windows.net` with its managed identity",
                sample=None, bicep=DEPLOYMENT),
        Setting("DATA_CONTAINER", "data_container", CONTAINER, "data",
                "blob container data engineers drop CSV files into (the blob trigger watches it)"),
        Setting("QUARANTINE_CONTAINER", "quarantine_container", CONTAINER, "quarantine",
                "where a copy of each rejected file goes, beside a `<file>.reason.json`"),
        Setting("STATE_CONTAINER", "state_container", CONTAINER, "retrain-state", "the service's state documents (file verdicts, jobs, events, the audit log's head), written with ETag conditions"),  # noqa: E501
        Setting("AUDIT_CONTAINER", "audit_container", CONTAINER, "audit", "the decision audit log (`decisions.jsonl`, one hash-chained append blob); in Azure under a time-based retention (immutability) policy, so nothing else is kept there"),  # noqa: E501
        Setting("AUDIT_RETENTION_DAYS", "audit_retention_days", integer(1, 146000), "183", "days each audit entry stays immutable (main.bicep's policy on AUDIT_CONTAINER, protected append writes allowed): 6 months, the EU AI Act's floor for the logs of high-risk systems (Art. 19(1), 26(6))", sample=None),  # noqa: E501
    ),
    *_section(
        "training",
        Setting("TRAINING_ALGORITHM", "algorithm", choice(ALGORITHMS), "gradient_boosting",
                "the estimator the training job fits"),
        Setting("TRAINING_QUIET_PERIOD_SECONDS", "quiet_period_seconds", number(0, DAY_SECONDS), "10",
                "files landing within this many seconds of each other lead to one training job",
                sample="5", bicep="60"),
        Setting("MAX_DATA_FILE_BYTES", "max_data_file_bytes", integer(1, 100 * 1024**3), "2147483648",
                "files larger than this are rejected without being read"),
        Setting("MIN_DATA_ROWS", "min_data_rows", integer(1, 10**9), "100",
                "files with fewer data rows are rejected"),
        Setting("MAX_NULL_SHARE", "max_null_share", number(0, 1), "0.05",
                "largest share of empty cells allowed in any column"),
    ),
    *_section(
        "delivery",
        Setting("ENDPOINT_NAME", "endpoint_name", ENDPOINT_NAME, "diabetes-endpoint",
                "the online endpoint that serves the model (its staging and production deployments); "
                "endpoint names are unique within an Azure region, so main.bicep adds a suffix",
                bicep=DEPLOYMENT),
        Setting("GATE_METRIC", "gate_metric", choice(GATE_METRICS), "auc",
                "primary metric of the quality gate"),
        Setting("GATE_MIN_VALUE", "gate_min_value", number(0, 1), "0.75",
                "a candidate below this value of the gate metric fails the gate"),
        Setting("GATE_MAX_DROP", "gate_max_drop", number(0, 1), "0.02",
                "the non-inferiority margin: a candidate fails the gate when the lower bound of the interval of "
                "its gate metric minus the champion's (same rows) is not above minus this, or when a subgroup "
                "drops by more than this"),
        Setting("GATE_BOOTSTRAP_RESAMPLES", "gate_bootstrap_resamples", integer(100, 100_000), "1000",
                "paired bootstrap resamples (seeded) of the gate metric's difference, candidate minus champion",
                bicep=None),
        Setting("GATE_CONFIDENCE", "gate_confidence", number(0.5, 0.999), "0.95",
                "two-sided confidence level of that interval (0.95: its lower bound is the 2.5th percentile)",
                bicep=None),
        Setting("GATE_SUBGROUPS", "gate_subgroups", TEXT, "Age=30,50;BMI=25,30;Pregnancies=1",
                "subgroup slices the gate judges one by one, `Column=cut,cut;...` (`Age=30,50`: under 30, "
                "30 to 50, 50 and over; `Pregnancies=1`: 0 and more than 0); empty: none", bicep=None),
        Setting("GATE_SUBGROUP_MIN_ROWS", "gate_subgroup_min_rows", integer(1, 10**6), "100",
                "a subgroup with fewer rows (or one class only) is shown but not judged", bicep=None),
        Setting("GATE_RECENT_ROWS", "gate_recent_rows", integer(0, 10**7), "5000",
                "at most this many rows of the newest labelled file neither model trained on join the held-out "
                "split in the gate, and of the recent window (newest file, captured traffic) in the disagreement "
                "figure", bicep=None),
        Setting("SMOKE_MAX_LATENCY_MS", "smoke_max_latency_ms", number(1, 600_000), "2000",
                "the staging smoke test fails when the deployment answers slower than this"),
        Setting("APPROVAL_TTL_HOURS", "approval_ttl_hours", number(0.001, NINETY_DAYS_HOURS), "72",
                "an approval request expires (auto-reject, staging removed) after this many hours"),
        Setting("APPROVAL_REMINDER_HOURS", "approval_reminder_hours", number(0, NINETY_DAYS_HOURS), "12",
                "a reminder goes out this many hours before expiry"),
        Setting("APPROVAL_SIGNING_KEY", "approval_signing_key", key(min_length=16), "",
                "the HMAC key of the signed approve/reject links (a Key Vault reference in Azure)",
                required=ALWAYS, secret=True, sample=GENERATED, bicep=DEPLOYMENT),
        Setting("AUTH_MODE", "auth_mode", choice(("none", "app-service")), "none", AUTH_MODE_DOC, bicep=DEPLOYMENT),
        Setting("APPROVERS", "approvers", TEXT, "", APPROVERS_DOC, required="AUTH_MODE=app-service"),
        Setting("PROMOTION_MIRROR_PERCENT", "promotion_mirror_percent", integer(0, 50), "0",
                "while a candidate awaits approval, mirror this percentage of live traffic to its staging deployment"),
        Setting("STEP_QUEUE_NAME", "step_queue_name", TEXT, "candidate-steps",
                "the storage queue of pipeline steps (gate, deployment, smoke test, approval request, "
                "promotion, rollback); failed messages end in `<name>-poison`"),
        Setting("STEP_POLL_SECONDS", "step_poll_seconds", number(0, 3600), "5",
                "how long a step that waits on a platform operation (a deployment) sleeps before it looks again",
                sample="1", bicep="30"),
        Setting("STEP_MAX_DEQUEUE_COUNT", "step_max_dequeue_count", integer(1, 100), "5",
                "host.json extensions.queues.maxDequeueCount: on the last try a failing step marks its "
                "candidate failed before the message goes to the poison queue"),
        Setting("DEPLOYMENT_TIMEOUT_SECONDS", "deployment_timeout_seconds", number(10, 24 * 3600), "1800",
                "a staging or rollback deployment not answering after this long fails its candidate"),
        Setting("PROMOTION_BAKE_MINUTES", "promotion_bake_minutes", number(0, 30 * 24 * 60), "60",
                "after a promotion the previous champion's deployment is kept this long, so a rollback "
                "is a traffic switch; the sweeper removes it after"),
        Setting("PRODUCTION_AUTO_ROLLBACK", "production_auto_rollback", choice(("true", "false")), "true",
                "when the sweeper finds production not answering: roll back to the kept previous champion "
                "(true) or only notify (false)"),
        Setting("NOTIFY_WEBHOOK_URL", "notify_webhook_url", OPTIONAL_URL, "",
                "generic JSON webhook for notifications; empty: notifications go to the log (a Key Vault "
                "reference in Azure)", secret=True, bicep=DEPLOYMENT),
        Setting("TEAMS_WEBHOOK_URL", "teams_webhook_url", OPTIONAL_URL, "",
                "Teams Workflows webhook ('When a Teams webhook request is received'): approval requests "
                "arrive as Adaptive Cards with Approve / Reject / Details buttons; takes precedence over "
                "NOTIFY_WEBHOOK_URL (a Key Vault reference in Azure)", secret=True, bicep=DEPLOYMENT),
    ),
    *_section(
        "monitoring",
        Setting("RETRAIN_TRIGGERS", "retrain_triggers", choices(RETRAIN_TRIGGERS), "new_data,drift,performance",
                "what asks for a training job: new_data (each accepted file), drift (a drift check's verdict), "
                "performance (the champion's metric drops on a new labelled file), estimated (the champion's "
                "performance estimated on unlabelled live traffic drops), schedule (RETRAIN_SCHEDULE)"),
        Setting("RETRAIN_COOLDOWN_HOURS", "retrain_cooldown_hours", number(0, 24 * 30), "6",
                "drift- and performance-triggered retraining waits at least this long after the previous one"),
        Setting("RETRAIN_DAILY_CAP", "retrain_daily_cap", integer(0, 1000), "3",
                "at most this many drift- or performance-triggered retrainings in 24 hours"),
        Setting("PERFORMANCE_DROP_THRESHOLD", "performance_drop_threshold", number(0, 1), "0.05",
                "a drop of the gate metric larger than this, new labelled file vs the champion's held-out "
                "figure, triggers retraining"),
        Setting("CBPE_MAX_ECE", "cbpe_max_ece", number(0, 1), "0.05",
                "performance estimated without labels (CBPE) on live traffic is valid only while the champion's "
                "expected calibration error on its held-out split is at most this", bicep=None),
        Setting("CBPE_MIN_ROWS", "cbpe_min_rows", integer(1, 10**9), "200",
                "fewer captured live rows than this: no estimate, no trigger", bicep=None),
        Setting("DRIFT_MIN_WINDOW_ROWS", "drift_min_window_rows", integer(1, 10**9), "1000",
                "drift windows smaller than this report insufficient_data and keep pooling new files"),
        Setting("DRIFT_FALSE_ALARM_RATE", "drift_false_alarm_rate", number(0.0001, 0.5), "0.01",
                "the chance that a drift check calls a window of undrifted data drift (per check and window, "
                "all features together); each feature's critical values follow from it and both sample sizes", bicep=None),
        Setting("DRIFT_RECENT_ROWS", "drift_recent_rows", integer(1, 10**9), "5000",
                "the recent window (the one retraining follows): the newest files (and captured inputs) "
                "holding at least this many rows", bicep=None),
        Setting("DRIFT_RECENT_HOURS", "drift_recent_hours", number(0.001, 24 * 365), "",
                "when set, the recent window is instead the files accepted in the last this many hours", bicep=None),
        Setting("DRIFT_CONFIRMATIONS", "drift_confirmations", choice(DRIFT_CONFIRMATIONS), "1/1",
                "M/N: drift asks for retraining when the recent window drifted in M of the last N checks", bicep=None),
        Setting("DRIFT_PSI_THRESHOLD", "drift_psi_threshold", OPTIONAL_FRACTION, "",
                "minimum PSI effect size a feature's PSI must also exceed to count; empty: the drift policy's "
                "default", bicep=None),
        Setting("DRIFT_KS_THRESHOLD", "drift_ks_threshold", OPTIONAL_FRACTION, "",
                "minimum KS effect size; empty: the drift policy's default", bicep=None),
        Setting("DRIFT_JS_THRESHOLD", "drift_js_threshold", OPTIONAL_FRACTION, "",
                "minimum Jensen-Shannon effect size; empty: the drift policy's default", bicep=None),
        Setting("DRIFT_SHARE", "drift_share", OPTIONAL_FRACTION, "",
                "share of drifted features that makes the dataset drift; empty: one drifted feature is enough",
                bicep=None),
        Setting("REPORTS_CONTAINER", "reports_container", CONTAINER, "reports",
                "blob container of the drift reports (HTML)"),
    ),
    *_section(
        "local",
        Setting("MLFLOW_TRACKING_URI", "mlflow_tracking_uri", URL, "http://127.0.0.1:5000",
                "the MLflow tracking server and model registry", bicep=None),
        Setting("MLFLOW_WEBHOOK_SECRET", "mlflow_webhook_secret", TEXT, "",
                "the HMAC secret shared with the MLflow registry webhook",
                required="ML_BACKEND=local", secret=True, sample=GENERATED, bicep=None),
        Setting("WEBHOOK_MAX_AGE_SECONDS", "webhook_max_age_seconds", integer(1, DAY_SECONDS), "300",
                "MLflow webhook deliveries whose timestamp is further from now (either way) are refused as stale"),
        Setting("LOCAL_JOBS_DIR", "jobs_dir", TEXT, ".local/jobs",
                "folder of the local training jobs (`spec.json`, `status.json`, `user_logs/std_log.txt`, "
                "`outputs/`), relative to the app folder", bicep=None),
        Setting("LOCAL_JOB_EVENTS_URL", "job_events_url", URL,
                "http://127.0.0.1:7071/runtime/webhooks/eventgrid?functionName=on_job_status_changed",
                "where local jobs announce status changes (the Event Grid endpoint of on_job_status_changed)",
                bicep=None),
        Setting("LOCAL_JOB_EVENTS_KEY", "job_events_key", TEXT, "",
                "the key local jobs send with those announcements (the local host's master key)",
                secret=True, sample=GENERATED_MASTER, bicep=None),
        Setting("LOCAL_ENDPOINTS_DIR", "endpoints_dir", TEXT, ".local/endpoints",
                "state and logs of the local online endpoint and its deployments", bicep=None),
        Setting("LOCAL_ENDPOINT_URL", "endpoint_url", BASE_URL, "http://127.0.0.1:5001",
                "the local online endpoint (router) in front of the scoring servers", bicep=None),
        Setting("LOCAL_ENDPOINT_KEY", "endpoint_key", TEXT, "",
                "the local endpoint's key (`Authorization: Bearer <key>`)",
                required="ML_BACKEND=local", secret=True, sample=GENERATED, bicep=None),
        Setting("LOCAL_DEPLOYMENT_MIN_SECONDS", "deployment_min_seconds", number(0, 24 * 3600), "0",
                "a local deployment reports Creating at least this long, as Azure ML's take minutes "
                "(benchmarks of the queued steps use it)", sample=None, bicep=None),
        Setting("LOCAL_TRAINING_PYTHON", "training_python", TEXT, ".venv-train/bin/python",
                "the training environment's Python (training/environment/conda.yml, built by `make setup`), "
                "absolute or relative to the app folder: it runs the local training jobs' train.py, the MLflow server and "
                "the deployments' scoring servers, as Azure ML runs them in that environment", bicep=None),
    ),
    *_section(
        "azure",
        Setting("AZURE_SUBSCRIPTION_ID", "subscription_id", TEXT, "",
                "the subscription of the Azure ML workspace", required="ML_BACKEND=azure",
                sample=None, bicep=DEPLOYMENT),
        Setting("AZURE_RESOURCE_GROUP", "resource_group", TEXT, "",
                "the resource group of the Azure ML workspace", required="ML_BACKEND=azure",
                sample=None, bicep=DEPLOYMENT),
        Setting("AZUREML_WORKSPACE", "workspace", TEXT, "",
                "the Azure ML workspace name", required="ML_BACKEND=azure", sample=None, bicep=DEPLOYMENT),
        Setting("AZUREML_COMPUTE", "compute", TEXT, "cpu-cluster",
                "the compute cluster of the training jobs", sample=None),
        Setting("AZUREML_ENVIRONMENT", "environment", TEXT, "azureml:diabetes-train-env@latest",
                "the training environment (or a conda file path under `training/`)", sample=None),
        Setting("AZUREML_EXPERIMENT", "experiment", TEXT, "diabetes-training",
                "the experiment of the training jobs (the job-status Event Grid subscription delivers "
                "only its runs)", sample=None),
        Setting("AZUREML_DATASTORE", "datastore", TEXT, "retraindata",
                "the datastore registered over the data container: an accepted file's kept copy is read as "
                "`azureml://datastores/<datastore>/paths/_accepted/<sha256>`", sample=None),
        Setting("AZUREML_INSTANCE_TYPE", "instance_type", TEXT, "Standard_DS3_v2",
                "VM size of the staging and production deployments", sample=None),
        Setting("AZUREML_INSTANCE_COUNT", "instance_count", integer(1, 100), "1",
                "instance count of each online deployment", sample=None),
        Setting("AZUREML_LRO_TIMEOUT_SECONDS", "lro_timeout_seconds", number(10, 7200), "1800",
                "wait limit of the Azure ML long-running operations", sample=None, bicep=None),
        Setting("DATA_COLLECTOR_ACCOUNT_URL", "data_collector_account_url", OPTIONAL_URL, "",
                "blob endpoint of the Azure ML workspace's storage account, where the data collector writes "
                "the deployments' model inputs (`https://<account>.blob.core.windows.net`), read with the app's "
                "identity (Storage Blob Data Reader); empty: live traffic is not read back (drift windows, CBPE "
                "and the disagreement figure use data files only)", sample=None, bicep=DEPLOYMENT),
        Setting("DATA_COLLECTOR_CONTAINER", "data_collector_container", TEXT, "",
                "the container of the workspace blob store (`workspaceblobstore`) in that account: "
                "`azureml-blobstore-<workspace id>`", sample=None, bicep=DEPLOYMENT),
        Setting("DATA_COLLECTOR_COLLECTION", "data_collector_collection", TEXT, "model_inputs",
                "the data collector's collection every deployment is created with and the drift windows read "
                "(`modelDataCollector/<endpoint>/<deployment>/<collection>/YYYY/MM/DD/HH/`)", sample=None,
                bicep=None),
    ),
    *_section(
        HOST,
        Setting("FUNCTIONS_WORKER_RUNTIME", None, TEXT, "",
                "the worker runtime (local host); on Flex Consumption the runtime is functionAppConfig.runtime",
                sample="python", bicep=None),
        Setting("AzureWebJobsFeatureFlags", None, TEXT, "",
                "EnableWorkerIndexing: the v2 programming model (needed by older hosts only)",
                sample="EnableWorkerIndexing", bicep=None),
        Setting("TRAINING_SCHEDULER_SCHEDULE", None, NCRONTAB, "",
                "NCRONTAB (6 fields, seconds first) of the timer that submits training once the quiet period "
                "has passed", required=ALWAYS, sample="* * * * * *", bicep="*/10 * * * * *"),
        Setting("APPROVAL_SWEEPER_SCHEDULE", None, NCRONTAB, "",
                "NCRONTAB of the approval_sweeper timer (reminders, expiry, reconciliation)",
                required=ALWAYS, sample="0 */5 * * * *", bicep="0 */5 * * * *"),
        Setting("RETRAIN_SCHEDULE", None, NCRONTAB, "",
                "NCRONTAB of the scheduled_retrain timer (it acts only when RETRAIN_TRIGGERS includes schedule)",
                required=ALWAYS, sample="0 0 3 * * 0", bicep="0 0 3 * * 0"),
        Setting("DRIFT_CHECK_SCHEDULE", None, NCRONTAB, "",
                "NCRONTAB of the drift_check timer", required=ALWAYS, sample="0 0 * * * *", bicep="0 0 * * * *"),
        Setting("REGISTRY_RECONCILE_SCHEDULE", None, NCRONTAB, "",
                "NCRONTAB of the reconcile_registry timer: the registry's versions of MODEL_NAME that no event "
                "brought start their pipeline (a lost event costs at most one period)",
                required=ALWAYS, sample="0 */5 * * * *", bicep="0 */5 * * * *"),
        Setting("AzureWebJobsStorage__blobServiceUri", None, URL, "",
                "identity-based host storage: the blob endpoint", sample=None, bicep=DEPLOYMENT),
        Setting("AzureWebJobsStorage__queueServiceUri", None, URL, "",
                "identity-based host storage: the queue endpoint (the blob trigger's poison queue)",
                sample=None, bicep=DEPLOYMENT),
        Setting("AzureWebJobsStorage__tableServiceUri", None, URL, "",
                "identity-based host storage: the table endpoint", sample=None, bicep=DEPLOYMENT),
        Setting("APPLICATIONINSIGHTS_CONNECTION_STRING", None, TEXT, "",
                "where the host sends telemetry (not a secret: ingestion needs Entra authentication)",
                sample=None, bicep=DEPLOYMENT),
        Setting("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", None, TEXT, "",
                "Authorization=AAD: telemetry is sent with the app's identity",
                sample=None, bicep="Authorization=AAD"),
        Setting("LOCAL_HOST_FUNCTION_KEY", None, TEXT, "",
                "local host only: the function key (x-functions-key header or ?code=)",
                secret=True, sample=GENERATED, bicep=None),
        Setting("LOCAL_HOST_MASTER_KEY", None, TEXT, "",
                "local host only: the master key (admin routes, Event Grid webhooks, any function route)",
                secret=True, sample=GENERATED_MASTER, bicep=None),
    ),
)

BY_NAME: dict[str, Setting] = {setting.env: setting for setting in SETTINGS}

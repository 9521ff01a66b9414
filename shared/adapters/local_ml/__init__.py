"""The local ML backend: training jobs as local processes, the MLflow server as model registry."""

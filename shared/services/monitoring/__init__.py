"""Monitoring: drift checks, the champion's performance on new labelled data, and the retraining policy."""
from shared.services.monitoring.drift import DriftConfig, DriftMonitoring
from shared.services.monitoring.performance import PerformanceConfig, PerformanceTracking
from shared.services.monitoring.retraining import TRIGGERS, RetrainingConfig, RetrainingPolicy

__all__ = ["DriftConfig", "DriftMonitoring", "PerformanceConfig", "PerformanceTracking", "RetrainingConfig",
           "RetrainingPolicy", "TRIGGERS"]

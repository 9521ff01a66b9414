"""The Functions app: composes the blueprints, nothing else (services load on first use)."""
import azure.functions as func

from blueprints import approvals, audit, candidates, dashboard, data, dossier, models, monitoring, steps, training

app = func.FunctionApp()
for blueprint in (data.bp, training.bp, models.bp, candidates.bp, approvals.bp, audit.bp, monitoring.bp,
                  steps.bp, dashboard.bp, dossier.bp):
    app.register_functions(blueprint)

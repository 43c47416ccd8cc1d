"""Mirror MLflow sources into the database and record every registry change seen."""

from governance.sync.service import sync_model, sync_source
from governance.sync.summary import SyncFailed, SyncSummary

__all__ = ["SyncFailed", "SyncSummary", "sync_model", "sync_source"]

"""Application config for the governance domain."""

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Model governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from governance.security_events import record_login_failed, record_login_locked_out

        user_login_failed.connect(record_login_failed, dispatch_uid="governance.login_failed")
        user_locked_out.connect(record_login_locked_out, dispatch_uid="governance.locked_out")

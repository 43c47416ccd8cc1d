"""Django admin: sync status for admins, read-only views of mirror and ledger."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest

from governance.models import LedgerEntry, MlflowSource, SyncRun, WebhookDelivery


@admin.register(MlflowSource)
class MlflowSourceAdmin(admin.ModelAdmin[MlflowSource]):
    list_display = [
        "name",
        "tracking_uri",
        "enabled",
        "last_success_at",
        "last_error_at",
        "last_duration_ms",
    ]
    readonly_fields = [
        "runs_watermark_ms",
        "versions_watermark_ms",
        "last_started_at",
        "last_success_at",
        "last_full_success_at",
        "last_error",
        "last_error_at",
        "last_counts",
        "last_duration_ms",
    ]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin[SyncRun]):
    list_display = ["source", "kind", "status", "started_at", "finished_at"]
    list_filter = ["source", "kind", "status"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin[LedgerEntry]):
    list_display = ["seq", "recorded_at", "action", "actor_username", "model_name", "version"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    """Accepted deliveries, read-only: refused ones are in the ledger."""

    list_display = ["received_at", "source", "entity", "action", "model_name", "task_name"]
    list_filter = ["source", "entity"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Roles are groups, and a role change must go through governance.roles, which
# refuses self-grants and records the change on the ledger. The stock auth admin
# would let a staff superuser edit anyone's groups, their own included, unrecorded.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class GovernedUserAdmin(UserAdmin[User]):
    """Accounts in the admin; roles and permissions are shown, never edited here."""

    readonly_fields = ["groups", "user_permissions", "last_login", "date_joined"]


@admin.register(Group)
class ReadOnlyGroupAdmin(GroupAdmin):
    """Role groups, read-only: their names and permissions define the roles."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

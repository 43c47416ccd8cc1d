"""Who holds which role; admins grant and revoke through ``governance.roles``."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from governance import identities, roles
from governance.models import LedgerEntry, MlflowIdentity
from governance.permissions import ROLES
from registry_ui import access
from registry_ui.ledger_text import entry_row
from registry_ui.workflow_forms import ChangeRoleForm, LinkMlflowNameForm, UnlinkMlflowNameForm

RECENT_CHANGES = 30
CHANGE_ACTIONS = ("role.granted", "role.revoked", "identity.linked", "identity.unlinked")


def _page(
    request: HttpRequest,
    error: str = "",
    status: int = 200,
    link_form: LinkMlflowNameForm | None = None,
) -> HttpResponse:
    users = User.objects.filter(is_active=True).prefetch_related(
        Prefetch("groups", queryset=Group.objects.filter(name__in=ROLES), to_attr="role_groups")
    )
    rows = [
        (user, sorted(group.name for group in user.role_groups))
        for user in users.order_by("username")
    ]
    changes = LedgerEntry.objects.filter(action__in=CHANGE_ACTIONS).order_by("-seq")[
        :RECENT_CHANGES
    ]
    context: dict[str, Any] = {
        "rows": rows,
        "form": ChangeRoleForm(),
        "error": error,
        "changes": [entry_row(entry) for entry in changes],
        "identities": list(
            MlflowIdentity.objects.select_related("user", "linked_by").order_by(
                "user__username", "name"
            )
        ),
        "link_form": link_form or LinkMlflowNameForm(),
    }
    return render(request, "registry_ui/access_roles.html", context, status=status)


@access.role_required(access.ADMIN)
def access_roles(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@access.role_required(access.ADMIN)
def change_role(request: HttpRequest, pk: int, change: str) -> HttpResponse:
    subject = get_object_or_404(User, pk=pk, is_active=True)
    form = ChangeRoleForm(request.POST)
    if change not in ("grant", "revoke") or not form.is_valid():
        return _page(
            request, error="Choose a role and give a reason; nothing was changed.", status=400
        )

    role, reason = form.cleaned_data["role"], form.cleaned_data["reason"]
    service = roles.grant_role if change == "grant" else roles.revoke_role
    try:
        changed = service(subject, role, by=request.user, reason=reason)  # type: ignore[arg-type]
    except PermissionDenied as exc:
        return _page(request, error=f"Refused: {exc}.", status=403)

    name = subject.get_full_name() or subject.get_username()
    if not changed:
        messages.info(
            request,
            f"Nothing changed: {name} already {'held' if change == 'grant' else 'lacked'} {role}.",
        )
    else:
        verb = "granted to" if change == "grant" else "revoked from"
        messages.success(request, f"Role {role} {verb} {name}; the change is on the ledger.")
    return redirect("registry_ui:access_roles")


@require_POST
@access.role_required(access.ADMIN)
def link_mlflow_name(request: HttpRequest) -> HttpResponse:
    form = LinkMlflowNameForm(request.POST)
    if not form.is_valid():
        error = "Choose a user and give the MLflow name and a reason; nothing was changed."
        return _page(request, error=error, status=400, link_form=form)

    subject, name = form.cleaned_data["user"], form.cleaned_data["name"]
    try:
        identities.link_mlflow_name(
            subject,
            name,
            by=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
        )
    except PermissionDenied as exc:
        return _page(request, error=f"Refused: {exc}.", status=403, link_form=form)
    except identities.IdentityError as exc:
        return _page(request, error=f"Not linked: {exc}.", status=400, link_form=form)
    messages.success(
        request,
        f"MLflow name {name} is now {subject.get_username()}'s; the change is on the ledger.",
    )
    return redirect("registry_ui:access_roles")


@require_POST
@access.role_required(access.ADMIN)
def unlink_mlflow_name(request: HttpRequest, pk: int) -> HttpResponse:
    identity = get_object_or_404(MlflowIdentity.objects.select_related("user"), pk=pk)
    form = UnlinkMlflowNameForm(request.POST)
    if not form.is_valid():
        return _page(request, error="Give a reason to unlink; nothing was changed.", status=400)
    try:
        identities.unlink_mlflow_name(
            identity,
            by=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
        )
    except PermissionDenied as exc:
        return _page(request, error=f"Refused: {exc}.", status=403)
    except identities.IdentityError as exc:
        return _page(request, error=f"Not unlinked: {exc}.", status=400)
    messages.success(
        request,
        f"MLflow name {identity.name} is no longer {identity.user.get_username()}'s; "
        "the change is on the ledger.",
    )
    return redirect("registry_ui:access_roles")

"""Forms of the request, decision, timeline, access and audit pages."""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User

from governance.models import Decision, TransitionRequest
from governance.permissions import ROLES, STAGES
from registry_ui.ledger_text import role_words

STAGE_PREFIX = "stage:"
ALIAS_PREFIX = "alias:"


def target_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Return the stages and governed aliases a request may target, grouped."""
    return [
        ("Stage", [(STAGE_PREFIX + stage, stage) for stage in STAGES]),
        ("Alias", [(ALIAS_PREFIX + alias, "@" + alias) for alias in settings.GOVERNED_ALIASES]),
    ]


class RequestTransitionForm(forms.Form):
    target = forms.ChoiceField(
        label="Move this version to",
        help_text="A stage, or one of the governed aliases.",
    )
    rationale = forms.CharField(
        label="Rationale",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Why this version should take the target: officers read this first.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["target"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = target_choices()

    def target_parts(self) -> tuple[str, str]:
        """Return the chosen (target kind, target)."""
        value = str(self.cleaned_data["target"])
        if value.startswith(STAGE_PREFIX):
            return TransitionRequest.TargetKind.STAGE, value.removeprefix(STAGE_PREFIX)
        return TransitionRequest.TargetKind.ALIAS, value.removeprefix(ALIAS_PREFIX)


class CancelRequestForm(forms.Form):
    reason = forms.CharField(label="Reason for cancelling", max_length=5000)


class DecisionForm(forms.Form):
    meaning = forms.ChoiceField(
        label="Decision",
        choices=Decision.Meaning.choices,
        widget=forms.RadioSelect,
    )
    rationale = forms.CharField(
        label="Rationale",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Recorded with your signature on the ledger.",
    )
    password = forms.CharField(
        label="Your password, to sign",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class PeriodForm(forms.Form):
    """Optional first and last day (UTC, both included)."""

    since = forms.DateField(
        label="From (UTC)", required=False, widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(
        label="To (UTC)", required=False, widget=forms.DateInput({"type": "date"})
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        since, until = (cleaned or {}).get("since"), (cleaned or {}).get("until")
        if since and until and since > until:
            raise forms.ValidationError("The first day must not come after the last day.")
        return cleaned

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """Return [start, end) as aware UTC datetimes (None when open)."""
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        return (
            _start_of(since) if since else None,
            _start_of(until) + timedelta(days=1) if until else None,
        )


class TimelineFilterForm(PeriodForm):
    action = forms.ChoiceField(label="Event", required=False)
    as_of = forms.DateTimeField(
        label="Holders as of (UTC)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput({"type": "datetime-local", "step": "1"}),
    )

    def __init__(self, actions: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["action"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Every event"), *actions]

    def clean_as_of(self) -> datetime | None:
        moment: datetime | None = self.cleaned_data.get("as_of")
        # The page speaks UTC; a value typed without a zone means UTC.
        return None if moment is None else moment.replace(tzinfo=UTC)


class ChangeRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=[(role, role_words(role)) for role in ROLES])
    reason = forms.CharField(label="Reason", max_length=2000)


class AuditExportForm(PeriodForm):
    model = forms.ChoiceField(label="Model")

    def __init__(self, models: list[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["model"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = models


class OnDateForm(forms.Form):
    moment = forms.DateTimeField(
        label="Date and time (UTC)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput({"type": "datetime-local", "step": "1"}),
    )

    def clean_moment(self) -> datetime:
        moment: datetime = self.cleaned_data["moment"]
        return moment.replace(tzinfo=UTC)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


class CorrectionForm(forms.Form):
    """What a ledger entry's after-state should have been, and why it was wrong."""

    # Large enough for any after-state the product records; a bigger paste is a mistake.
    MAX_AFTER_CHARS = 20_000

    after = forms.CharField(
        label="After-state as it should have been (JSON)",
        widget=forms.Textarea(attrs={"rows": 8, "class": "mono", "spellcheck": "false"}),
        max_length=MAX_AFTER_CHARS,
        strip=False,
        help_text="Write null when the entry should have recorded no after-state.",
    )
    reason = forms.CharField(
        label="Why the entry was wrong",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="Recorded on the ledger with your name; the original entry stays as it was.",
    )

    def clean_after(self) -> Any:
        text = self.cleaned_data["after"]
        try:
            return json.loads(text, parse_constant=_no_constant)
        except ValueError as exc:
            raise forms.ValidationError(f"This is not valid JSON: {exc}") from exc


class UnapprovedChangesForm(PeriodForm):
    model = forms.CharField(label="Model name contains", required=False, max_length=500, strip=True)


class LinkMlflowNameForm(forms.Form):
    user = forms.ModelChoiceField(
        label="User", queryset=User.objects.filter(is_active=True).order_by("username")
    )
    name = forms.CharField(label="MLflow name (mlflow.user)", max_length=250)
    reason = forms.CharField(label="Reason", max_length=2000)


class UnlinkMlflowNameForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=2000)

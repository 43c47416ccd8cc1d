"""One JSON error shape for every API failure: ``{"error": {code, message, details}}``."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from governance import workflow
from governance.api.tokens import TokenAlreadyRevoked

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """The object is no longer in a state that allows the action (already decided)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


class InvalidInput(exceptions.APIException):
    """A service refused the input itself (for example, a target that cannot be asked)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request is not valid."
    default_code = "invalid"


# Services raise their own exceptions and stay free of HTTP; the API maps them here.
_CONFLICTS = (workflow.Conflict, TokenAlreadyRevoked)
_INVALID = (workflow.InvalidRequest,)


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, _CONFLICTS):
        return Conflict(sentence(str(exc)) if str(exc) else None)
    if isinstance(exc, _INVALID):
        return InvalidInput(sentence(str(exc)) if str(exc) else None)
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or None)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(sentence(str(exc)) if str(exc) else None)
    return exc


def sentence(text: str) -> str:
    """Return ``text`` capitalised and ending in a full stop, for error messages."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _body(exc: exceptions.APIException) -> dict[str, Any]:
    detail = exc.detail
    if isinstance(detail, dict | list):
        return {
            "code": "invalid",
            "message": "The request is not valid; see details.",
            "details": detail if isinstance(detail, dict) else {"non_field_errors": detail},
        }
    code = getattr(detail, "code", None) or exc.default_code
    details: dict[str, Any] = {}
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        details["retry_after_seconds"] = int(wait) + 1
    return {"code": str(code), "message": str(detail), "details": details}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: DRF's statuses and headers, our body."""
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    response.data = {"error": _body(exc)}
    return response


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Answer an unknown path under the API with the JSON error shape."""
    return JsonResponse(
        {"error": {"code": "not_found", "message": "No such API endpoint.", "details": {}}},
        status=404,
    )

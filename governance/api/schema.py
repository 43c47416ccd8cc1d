"""OpenAPI details drf-spectacular cannot infer: the token scheme and the error responses."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import serializers


class ErrorBodySerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. not_found.")
    message = serializers.CharField(help_text="A sentence for people.")
    details = serializers.DictField(help_text="Field errors or other specifics; may be empty.")


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of every error response."""

    error = ErrorBodySerializer()


ERRORS = {
    "400": "Bad input: invalid filter, ordering or body.",
    "401": "Not authenticated, or an invalid or revoked token.",
    "403": "Authenticated, but the user's roles do not allow this.",
    "404": "No such object, or no such page.",
    "429": "Too many requests; retry after the Retry-After header's seconds.",
}
WRITE_ERRORS = {"409": "The object changed state first (for example, already decided)."}


class GovernanceAutoSchema(AutoSchema):
    """Document the shared error shape on every operation."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        errors = dict(ERRORS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors |= WRITE_ERRORS
        for code, description in errors.items():
            if code not in responses:
                response = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    ErrorSerializer, code, direction=direction
                )
                response["description"] = description
                responses[code] = response
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "governance.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Token",  # noqa: S106 - the scheme keyword, not a secret
        )
        definition["description"] = "An API token: `Authorization: Token mlg_...`."
        return definition

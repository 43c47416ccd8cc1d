"""Manage API tokens: create (the secret is shown once), list and revoke."""

from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from governance.api import serializers as api
from governance.api.filters import ApiTokenFilter
from governance.api.permissions import authenticated_by_token, can_manage_token_of, message_of
from governance.api.tokens import create_api_token, revoke_api_token
from governance.api.views.base import GovernedGenericViewSet, signed_in_user
from governance.models import ApiToken
from governance.permissions import ADMIN, has_role


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    GovernedGenericViewSet[ApiToken],
):
    """The caller's API tokens; an admin sees and manages everyone's."""

    serializer_class = api.ApiTokenSerializer
    filterset_class = ApiTokenFilter

    def get_queryset(self) -> QuerySet[ApiToken]:
        tokens = ApiToken.objects.select_related("user", "created_by", "revoked_by")
        if not has_role(self.request.user, ADMIN):
            tokens = tokens.filter(user_id=int(self.request.user.pk or 0))
        return tokens.order_by("-created_at", "-pk")

    @extend_schema(request=api.ApiTokenCreateSerializer, responses={201: api.IssuedTokenSerializer})
    def create(self, request: Request) -> Response:
        """Issue a token; the response is the only place its secret ever appears."""
        if authenticated_by_token(request):
            # A leaked token must not be able to mint tokens that outlive its revocation.
            raise PermissionDenied("Create API tokens from a signed-in session, not with a token.")

        form = api.ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        caller = signed_in_user(request)
        owner: User = form.validated_data.get("user") or caller
        verdict = can_manage_token_of(caller, owner)
        if not verdict:
            raise PermissionDenied(message_of(verdict))

        issued = create_api_token(owner, form.validated_data["name"], by=caller)
        body = dict(api.ApiTokenSerializer(issued.token).data)
        body["secret"] = issued.secret
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    @extend_schema(request=None, responses=api.ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke a token for good; a revoked token never authenticates again."""
        token = self.get_object()
        caller = signed_in_user(request)
        verdict = can_manage_token_of(caller, token.user)
        if not verdict:
            raise PermissionDenied(message_of(verdict))

        revoked = revoke_api_token(token, by=caller)
        return Response(api.ApiTokenSerializer(revoked).data)

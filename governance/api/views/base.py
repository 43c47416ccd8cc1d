"""What every API view shares: authentication from settings, a governance role, the schema."""

from typing import TypeVar

from django.contrib.auth.models import User
from django.db.models import Model
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from governance.api.pagination import ApiPagination
from governance.api.permissions import HasGovernanceRole
from governance.api.schema import GovernanceAutoSchema

_M = TypeVar("_M", bound=Model)


class GovernedApiView(APIView):
    """A plain API view: any governance role may call it."""

    permission_classes = [HasGovernanceRole]
    schema = GovernanceAutoSchema()


class GovernedGenericViewSet(viewsets.GenericViewSet[_M]):
    """A viewset to compose with DRF's mixins: any governance role, paginated."""

    permission_classes = [HasGovernanceRole]
    pagination_class = ApiPagination
    schema = GovernanceAutoSchema()


class GovernedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet[_M]):
    """List and retrieve: any governance role, paginated."""

    permission_classes = [HasGovernanceRole]
    pagination_class = ApiPagination
    schema = GovernanceAutoSchema()


def signed_in_user(request: Request) -> User:
    """Return the caller; every view here has already required a signed-in user."""
    user = request.user
    assert isinstance(user, User)
    return user

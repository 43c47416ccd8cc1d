"""Transition requests: list, read, create, cancel, approve and reject.

Every write calls the workflow service the pages call; the service asks
:mod:`governance.permissions`, records refusals and appends the ledger entries.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from governance import workflow
from governance.api import serializers as api
from governance.api.filters import TransitionRequestFilter
from governance.api.views.base import GovernedGenericViewSet, signed_in_user
from governance.models import Decision, TransitionRequest


class TransitionRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    GovernedGenericViewSet[TransitionRequest],
):
    """Requests for a stage or alias change, with their evidence and decisions."""

    filterset_class = TransitionRequestFilter

    def get_queryset(self) -> QuerySet[TransitionRequest]:
        return (
            TransitionRequest.objects.select_related(
                "registered_model__source", "model_version", "requested_by"
            )
            .prefetch_related("decisions__officer")
            .order_by("-created_at", "-pk")
        )

    def get_serializer_class(self) -> type[BaseSerializer[TransitionRequest]]:
        if self.action == "list":
            return api.TransitionRequestSerializer
        return api.TransitionRequestDetailSerializer

    def _detail(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=pk)
        return Response(api.TransitionRequestDetailSerializer(fresh).data, status=status_code)

    @extend_schema(
        request=api.TransitionRequestCreateSerializer,
        responses={201: api.TransitionRequestDetailSerializer},
    )
    def create(self, request: Request) -> Response:
        """Request a stage or alias for a version; the evidence is frozen with it."""
        form = api.TransitionRequestCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data

        created = workflow.request_transition(
            signed_in_user(request),
            values["model_version"],
            values["target_kind"],
            values["target"],
            values["rationale"],
        )
        return self._detail(created.pk, status.HTTP_201_CREATED)

    @extend_schema(request=api.CancelSerializer, responses=api.TransitionRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw a pending request; only its requester may."""
        pending = self.get_object()
        form = api.CancelSerializer(data=request.data)
        form.is_valid(raise_exception=True)

        workflow.cancel_request(signed_in_user(request), pending.pk, form.validated_data["reason"])
        return self._detail(pending.pk)

    @extend_schema(request=api.DecideSerializer, responses=api.TransitionRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Sign an approval; the password is asked again, as on the decision page."""
        return self._decide(request, Decision.Meaning.APPROVED)

    @extend_schema(request=api.DecideSerializer, responses=api.TransitionRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Sign a rejection; the password is asked again, as on the decision page."""
        return self._decide(request, Decision.Meaning.REJECTED)

    def _decide(self, request: Request, meaning: str) -> Response:
        pending = self.get_object()
        form = api.DecideSerializer(data=request.data)
        form.is_valid(raise_exception=True)

        workflow.decide(
            signed_in_user(request),
            pending.pk,
            meaning,
            form.validated_data["rationale"],
            form.validated_data["password"],
        )
        return self._detail(pending.pk)

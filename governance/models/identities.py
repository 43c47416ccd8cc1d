"""Names under which MLflow records a person's runs."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class MlflowIdentity(models.Model):
    """A name MLflow records as a run's author (``mlflow.user``) that belongs to a user.

    MLflow takes the name from whatever client logged the run: an OS account, an
    e-mail address, a notebook service's login. Admins link the names that are not
    the user's username or e-mail, so that separation of duties recognises them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mlflow_identities"
    )
    name = models.CharField(max_length=250)
    linked_at = models.DateTimeField()
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "MLflow identities"
        constraints = [
            # A name belongs to one person, whatever its case.
            models.UniqueConstraint(Lower("name"), name="one_user_per_mlflow_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} → user {self.user_id}"

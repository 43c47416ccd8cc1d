"""MLflow names linked to users, and decisions that keep the run author's linked user."""

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0008_decision_officer_email"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MlflowIdentity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("name", models.CharField(max_length=250)),
                ("linked_at", models.DateTimeField()),
            ],
            options={
                "verbose_name_plural": "MLflow identities",
            },
        ),
        migrations.AddField(
            model_name="decision",
            name="run_author_user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("target", "Production"),
                    ("officer", models.F("run_author_user")),
                    _negated=True,
                ),
                name="production_not_by_linked_run_author",
            ),
        ),
        migrations.AddField(
            model_name="mlflowidentity",
            name="linked_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="mlflowidentity",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="mlflow_identities",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="mlflowidentity",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="one_user_per_mlflow_name",
            ),
        ),
    ]

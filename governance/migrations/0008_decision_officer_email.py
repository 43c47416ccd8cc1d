"""Decisions keep the officer's e-mail, so the database refuses a run author named by it."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0007_ledger_model_seq_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="decision",
            name="production_not_by_run_author",
        ),
        migrations.AddField(
            model_name="decision",
            name="officer_email",
            field=models.CharField(blank=True, default="", max_length=254),
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("target", "Production"),
                    models.Q(("run_author", ""), _negated=True),
                    models.Q(
                        ("officer_username__iexact", models.F("run_author")),
                        ("officer_email__iexact", models.F("run_author")),
                        _connector="OR",
                    ),
                    _negated=True,
                ),
                name="production_not_by_run_author",
            ),
        ),
    ]

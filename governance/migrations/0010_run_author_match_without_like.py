"""Compare the run author with Lower() on both sides: on SQLite iexact is LIKE."""

import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0009_mlflow_identities"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="decision",
            name="production_not_by_run_author",
        ),
        migrations.AddConstraint(
            model_name="decision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("target", "Production"),
                    models.Q(("run_author", ""), _negated=True),
                    models.Q(
                        django.db.models.lookups.Exact(
                            django.db.models.functions.text.Lower("officer_username"),
                            django.db.models.functions.text.Lower("run_author"),
                        ),
                        django.db.models.lookups.Exact(
                            django.db.models.functions.text.Lower("officer_email"),
                            django.db.models.functions.text.Lower("run_author"),
                        ),
                        _connector="OR",
                    ),
                    _negated=True,
                ),
                name="production_not_by_run_author",
            ),
        ),
    ]

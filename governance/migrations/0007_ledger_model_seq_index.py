"""Index the ledger by model and descending seq, for a model's latest entries."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0006_ledger_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["source_name", "model_name", "-seq"], name="governance__source__f55b52_idx"
            ),
        ),
    ]

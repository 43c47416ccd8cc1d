"""Make the ledger table append-only at the database level on PostgreSQL.

Triggers refuse UPDATE and DELETE of any row and TRUNCATE of the table, whatever the
application code does. They are ordinary (origin) triggers, so a superuser can still
bypass them with ``session_replication_role = replica`` or by disabling them; the
application must therefore connect as a role that is neither a superuser nor the
table's owner, and the hash chain with its signed checkpoints catches what a
superuser changes anyway.

SQLite has no statement-level (TRUNCATE) triggers and no roles that could be kept
from dropping a trigger, so nothing is installed there: on SQLite (demo and tests)
the ledger relies on the hash chain and checkpoints alone.
"""

from django.db import migrations

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION governance_ledger_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit ledger is append-only: % of % is refused',
            TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
    CREATE TRIGGER governance_ledgerentry_refuse_update_delete
        BEFORE UPDATE OR DELETE ON governance_ledgerentry
        FOR EACH ROW EXECUTE FUNCTION governance_ledger_refuse_change()
    """,
    """
    CREATE TRIGGER governance_ledgerentry_refuse_truncate
        BEFORE TRUNCATE ON governance_ledgerentry
        FOR EACH STATEMENT EXECUTE FUNCTION governance_ledger_refuse_change()
    """,
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS governance_ledgerentry_refuse_truncate ON governance_ledgerentry",
    "DROP TRIGGER IF EXISTS governance_ledgerentry_refuse_update_delete ON governance_ledgerentry",
    "DROP FUNCTION IF EXISTS governance_ledger_refuse_change()",
]


def _run_on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("governance", "0005_webhook_deliveries")]
    operations = [
        migrations.RunPython(_run_on_postgresql(FORWARD), _run_on_postgresql(BACKWARD)),
    ]

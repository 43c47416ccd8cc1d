"""Take a governance role from a user: ``manage.py revoke_role USER ROLE [--by ADMIN]``."""

from governance.management.commands._role_command import RoleCommand
from governance.roles import revoke_role


class Command(RoleCommand):
    help = "Take the governance ROLE from USER, recording who did it on the ledger."
    verb = "revoked"
    change = staticmethod(revoke_role)

"""Give a user a governance role: ``manage.py grant_role USER ROLE [--by ADMIN]``."""

from governance.management.commands._role_command import RoleCommand
from governance.roles import grant_role


class Command(RoleCommand):
    help = "Give USER the governance ROLE, recording who did it on the ledger."
    verb = "granted"
    change = staticmethod(grant_role)

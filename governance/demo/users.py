"""The demo's people: one dashboard account per role, with known passwords."""

import getpass
import logging
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from governance.roles import Operator, grant_role, revoke_role, roles_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    password: str


# The same names train the demo's MLflow runs, so the separation-of-duties rules
# have something to bite on: Oscar rebuilt a tumour classifier version himself.
DEMO_USERS = (
    DemoUser("dana", "Dana", "Scully", "data_scientist", "demo-dana-requests"),
    DemoUser("olivia", "Olivia", "Pope", "governance_officer", "demo-olivia-approves"),
    DemoUser("oscar", "Oscar", "Martinez", "governance_officer", "demo-oscar-approves"),
    DemoUser("erin", "Erin", "Brockovich", "executive", "demo-erin-reads"),
    DemoUser("adam", "Adam", "Admin", "admin", "demo-adam-administers"),
)
_REASON = "demo account set up by run_demo"


def ensure_demo_users() -> list[DemoUser]:
    """Create or reset the demo accounts, each holding exactly its one role.

    Roles go through the role service, so the ledger records each grant as made by
    the operator who ran the demo.
    """
    operator = Operator(getpass.getuser())
    for demo in DEMO_USERS:
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=demo.username,
                defaults={
                    "first_name": demo.first_name,
                    "last_name": demo.last_name,
                    "email": f"{demo.username}@example.test",
                },
            )
            user.set_password(demo.password)
            # Only the admin may open Django's admin site, where sync status lives.
            user.is_staff = demo.role == "admin"
            user.save()
        for role in roles_of(user) - {demo.role}:
            revoke_role(user, role, by=operator, reason=_REASON)
        grant_role(user, demo.role, by=operator, reason=_REASON)
        logger.info(
            "Demo user %s %s with role %s",
            demo.username,
            "created" if created else "reset",
            demo.role,
        )
    return list(DEMO_USERS)

"""The shared body of the grant_role and revoke_role commands."""

import getpass
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.management.users import user_named
from governance.permissions import ROLES
from governance.roles import Operator

RoleChange = Callable[..., bool]


class RoleCommand(BaseCommand):
    verb = ""
    change: RoleChange

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", choices=ROLES)
        parser.add_argument(
            "--by",
            metavar="ADMIN_USERNAME",
            help="the admin account making the change; without it the change is recorded "
            "as made by the system, naming the operating-system user",
        )
        parser.add_argument("--reason", default="", help="why the change is made")

    def handle(self, *args: Any, **options: Any) -> None:
        subject = user_named(options["username"])
        by: User | Operator = (
            user_named(options["by"]) if options["by"] else Operator(getpass.getuser())
        )
        try:
            changed = type(self).change(subject, options["role"], by=by, reason=options["reason"])
        except PermissionDenied as exc:
            raise CommandError(f"refused: {exc}") from exc
        if changed:
            self.stdout.write(f"{self.verb} {options['role']} for {subject.get_username()}")
        else:
            self.stdout.write(f"nothing to do: {subject.get_username()} {self._state(options)}")

    def _state(self, options: dict[str, Any]) -> str:
        held = "already holds" if self.verb == "granted" else "does not hold"
        return f"{held} {options['role']}"

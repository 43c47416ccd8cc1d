"""Link or unlink an MLflow run-author name: ``manage.py mlflow_name link USER NAME``."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance import identities
from governance.management.users import user_named
from governance.models import MlflowIdentity


class Command(BaseCommand):
    help = (
        "Link NAME, as MLflow records a run's author (mlflow.user), to USER so that "
        "separation of duties knows it, or unlink it. Recorded on the ledger as the "
        "admin given with --by, who may not change their own names."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("change", choices=("link", "unlink"))
        parser.add_argument("username")
        parser.add_argument("name", help="the name MLflow records, e.g. an OS account")
        parser.add_argument("--by", required=True, metavar="ADMIN_USERNAME")
        parser.add_argument("--reason", required=True, help="why the name is (no longer) theirs")

    def handle(self, *args: Any, **options: Any) -> None:
        subject, by = user_named(options["username"]), user_named(options["by"])
        name: str = options["name"]
        try:
            if options["change"] == "link":
                identities.link_mlflow_name(subject, name, by=by, reason=options["reason"])
                self.stdout.write(f"linked {name!r} to {subject.get_username()}")
                return
            identity = MlflowIdentity.objects.filter(user=subject, name__iexact=name).first()
            if identity is None:
                raise CommandError(f"{name!r} is not linked to {subject.get_username()}")
            identities.unlink_mlflow_name(identity, by=by, reason=options["reason"])
            self.stdout.write(f"unlinked {identity.name!r} from {subject.get_username()}")
        except PermissionDenied as exc:
            raise CommandError(f"refused: {exc}") from exc
        except identities.IdentityError as exc:
            raise CommandError(str(exc)) from exc

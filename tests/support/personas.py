"""Named people, one per role, shared by the tests."""

from dataclasses import dataclass

from django.contrib.auth.models import Group, User

PASSWORD = "correct horse battery staple 42"


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]


# Dana requests, Olivia and Oscar approve, Erin reads, Adam administers.
DANA = Persona("dana", "Dana", "Scully", ("data_scientist",))
DEREK = Persona("derek", "Derek", "Shepherd", ("data_scientist",))
OLIVIA = Persona("olivia", "Olivia", "Pope", ("governance_officer",))
OSCAR = Persona("oscar", "Oscar", "Martinez", ("governance_officer",))
ERIN = Persona("erin", "Erin", "Brockovich", ("executive",))
ADAM = Persona("adam", "Adam", "Admin", ("admin",))
ALL = (DANA, DEREK, OLIVIA, OSCAR, ERIN, ADAM)


def make_user(persona: Persona) -> User:
    """Create the persona's user with its roles, creating a missing role group."""
    user = User.objects.create_user(
        persona.username,
        password=PASSWORD,
        first_name=persona.first_name,
        last_name=persona.last_name,
        email=f"{persona.username}@example.test",
    )
    # A flush after a transaction=True test drops the groups the migration created.
    user.groups.set([Group.objects.get_or_create(name=role)[0] for role in persona.roles])
    return user

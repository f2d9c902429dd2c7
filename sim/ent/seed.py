"""ENT accounts and external applications for a synthetic school, derived deterministically from
the same `SchoolData` that gives the STS-Web / SIECLE exports, so that SACoche's ENT import has
real matching work to do.

What the export holds, and what SACoche can match (by normalised surname + first name):
- every staff member (Enseignant for ENS, Personnel for the others, LAB included although
  SACoche never imports it), every student (classe = division; students who left or have no
  class are there too, as an ENT that has not synced yet would have them), every parent
  (legal guardians and mere contacts alike);
- names as SIECLE / STS give them, with the case varied on some lines as real ENT exports do
  (first name in lower case, surname in title case, first name in capitals): still matchable;
- ONE deliberately unmatchable account (`MISMATCH_SOURCE` in `EntAccount.source` marks it): a
  student whose ENT first name carries a second first name SIECLE does not know
  ("Emma" -> "Emma Marie"), the kind of difference the guide says must be handled by hand;
- two ENT-only accounts (`ENT_ONLY`), in no SIECLE / STS file;
- the administrator (profile Administrateur), never in the export.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..datagen import ACCENT_STUDENTS, HOMONYM_STUDENT, LATIN1_STUDENT, SchoolData, name_key
from ..text import without_accents
from .store import ADMIN_PROFILE, Store

# Well-known demo credentials: they only open the local simulator.
DEMO_ENT_ADMIN = ("admin.ent", "demo-ent-123")

# People who exist only in the ENT (surnames outside datagen's pools: never a homonym by chance).
ENT_ONLY = (("AGENT", "Entretien", "Personnel"), ("INTERVENANT", "Théâtre", "Personnel"))
SECOND_FIRST_NAMES = {1: "Pierre", 2: "Marie"}

OTHER_APPS = ("Pronote", "Moodle", "Messagerie", "Cahier de textes", "Espace documentaire",
              "Agenda", "Annuaire", "Actualités", "Blog pédagogique", "Médiacentre",
              "Casier numérique", "Forum", "Folios", "Webconférence", "Sondages", "Carnet de liaison")
APPS_AFTER_SACOCHE = ("Orientation", "Stockage en ligne")
SACOCHE_APP = "SACoche"

# Structure rows a school has in each link's configuration (the guide ticks them all).
INSTANCES = ("Établissement", "Accès mobile")


def demo_password(ent_id: str) -> str:
    """The password of every seeded (non-administrator) account: tests and the demo log in
    real ENT users with it."""
    return f"ent-{ent_id}"


@dataclass(frozen=True)
class EntAccount:
    ent_id: str
    profile: str
    nom: str
    prenom: str
    classe: str
    # Where the person comes from: "sts:<ID>", "eleve:<ELEVE_ID>", "personne:<PERSONNE_ID>",
    # "ent-only"; the deliberate mismatch is "mismatch:eleve:<ELEVE_ID>".
    source: str

    @property
    def same_name_as_source(self) -> bool:
        """True when SACoche can match the line (case aside) to its SIECLE / STS person."""
        return not self.source.startswith(("mismatch:", "ent-only"))


def _ascii_letters(text: str) -> str:
    return "".join(c for c in without_accents(text).lower() if c.isascii() and c.isalpha())


def _vary_case(index: int, nom: str, prenom: str) -> tuple[str, str]:
    """Some ENT lines change case only (what SACoche's normalisation absorbs); hyphens,
    spaces and accents stay as they are."""
    if index % 9 == 4:
        return nom, prenom.lower()
    if index % 13 == 7:
        return nom.title(), prenom
    if index % 17 == 11:
        return nom, prenom.upper()
    return nom, prenom


def _mismatch_student(data: SchoolData):
    """The last ordinary student (in a class, not left, no trap name): the one the ENT knows
    under another first name."""
    reserved = {name_key(n, p) for n, p, _ in (HOMONYM_STUDENT, LATIN1_STUDENT, *ACCENT_STUDENTS)}
    for student in reversed(data.students):
        if student.division and not student.date_sortie and name_key(student.nom, student.prenom) not in reserved:
            return student
    return None


def ent_accounts(data: SchoolData, taken: set[str] | None = None) -> list[EntAccount]:
    """The ENT's accounts for this school, in export order (staff, students, parents, ENT-only).
    `taken` holds ids already used in the ENT (another school): new ids avoid them."""
    used = {ent_id.lower() for ent_id in (taken or set())}

    def new_id(nom: str, prenom: str) -> str:
        stem = (_ascii_letters(prenom)[:1] + _ascii_letters(nom)[:10]) or "compte"
        number = 1
        while f"{stem}{number}" in used:
            number += 1
        used.add(f"{stem}{number}")
        return f"{stem}{number}"

    people: list[tuple[str, str, str, str, str]] = []   # profile, nom, prenom, classe, source
    for member in data.staff:
        people.append(("Enseignant" if member.fonction == "ENS" else "Personnel",
                       member.nom, member.prenom, "", f"sts:{member.sts_id}"))
    mismatch = _mismatch_student(data)
    for student in data.students:
        if student is mismatch:
            prenom = f"{student.prenom} {SECOND_FIRST_NAMES.get(student.sexe, 'Marie')}"
            people.append(("Eleve", student.nom, prenom, student.division or "", f"mismatch:eleve:{student.eleve_id}"))
        else:
            people.append(("Eleve", student.nom, student.prenom, student.division or "", f"eleve:{student.eleve_id}"))
    for parent in data.parents:
        people.append(("Parent", parent.nom, parent.prenom, "", f"personne:{parent.personne_id}"))

    accounts = []
    for index, (profile, nom, prenom, classe, source) in enumerate(people):
        shown_nom, shown_prenom = _vary_case(index, nom, prenom)
        accounts.append(EntAccount(new_id(nom, prenom), profile, shown_nom, shown_prenom, classe, source))
    for nom, prenom, profile in ENT_ONLY:
        accounts.append(EntAccount(new_id(nom, prenom), profile, nom, prenom, "", "ent-only"))
    return accounts


def seed_ent(store: Store, data: SchoolData, *, uai: str, admin_login: str, admin_password: str,
             sacoche_url: str, apps_before_sacoche: int = 12, school_name: str | None = None) -> bool:
    """Creates the school's administrator, its accounts and structure rows, and (once per ENT)
    the external applications. Does nothing if `admin_login` already exists (a restarted
    simulator keeps its state). Returns True when it seeded."""
    if store.account(admin_login) is not None:
        return False
    school_name = school_name or f"Établissement {uai}"
    if not store.apps():
        names = list(OTHER_APPS[:apps_before_sacoche])
        names += [f"Application {n}" for n in range(len(names) + 1, apps_before_sacoche + 1)]
        for name in names:
            store.add_app(name, f"/appli/{_ascii_letters(name) or 'appli'}?uai=")
        store.add_app(SACOCHE_APP, f"{sacoche_url}?sso&base=", kind="sacoche")
        for name in APPS_AFTER_SACOCHE:
            store.add_app(name, f"/appli/{_ascii_letters(name)}?uai=")
    structure_ids = [store.add_structure(uai, school_name, instance) for instance in INSTANCES]
    # Other applications come already configured for the school (the ENT's own services).
    for app in store.apps():
        if app["kind"] != "sacoche":
            store.set_link_values(app["id"], {sid: uai for sid in structure_ids})

    store.add_account(admin_login, ADMIN_PROFILE, "ADMINISTRATEUR", "Ent", admin_password, uai)
    accounts = ent_accounts(data, taken=store.ent_ids())
    store.add_accounts([dict(ent_id=a.ent_id, profile=a.profile, nom=a.nom, prenom=a.prenom,
                             classe=a.classe, password=demo_password(a.ent_id), uai=uai)
                        for a in accounts])
    return True

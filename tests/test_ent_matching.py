"""The bot's prediction of SACoche's ENT-identifier import (flows/sacoche/ent_matching.py),
against the simulator's import, which was written apart from it from SACoche's source; and the
settling of homonyms, which must never give one id twice."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from flows.sacoche import ent_matching as matching
from flows.sacoche.ent_matching import Account, Verdict
from schoolfiles.ent_csv import read_ent_csv
from sim.sacoche import clean
from sim.sacoche.ent_ids import import_ent
from sim.sacoche.store import Store

TRICKY_NAMES = ["Éloïse", "O’NEIL", "o'neil", "jean-marc", "JEAN–MARC", "Anne  Marie", " lou ", "ß", "Œdipe",
                "Dupont-Saint-Germain-des-Champs", "de la Fontaine-Saint-Germain-des-Prés", "Marie-Christine Anne-Sophie",
                "ANNE-MARIE-JOSÉPHINE-CHRISTINE", "Why?", "ŠŽŸŕ", "Ægir", "d'Artagnan-de-Castelmore-d'Armagnac",
                "o'neil héloïse", "l'été", "3eme", "x\x01y", "\ttab "]


@pytest.mark.parametrize("text", TRICKY_NAMES)
def test_the_bot_cleans_names_as_the_simulator_does(text):
    assert matching.fold_accents(text) == clean.accents(text)
    assert matching.sacoche_surname(text) == clean.nom(text)
    assert matching.sacoche_first_name(text) == clean.prenom(text)


def test_php_comparison_of_ids():
    assert matching.php_equal("0123", "123") and matching.php_equal("1e3", "1000") and matching.php_equal(" 12", "12")
    assert not matching.php_equal("abc", "ABC") and not matching.php_equal("0x1A", "26") and not matching.php_equal("", "0")


def write_export(tmp_path: Path, lines: list[tuple[str, str, str, str, str]]) -> Path:
    path = tmp_path / "export.csv"
    body = "".join(";".join(line) + "\r\n" for line in lines)
    path.write_bytes(("Extraction des comptes ENT\r\nuid;profil;nom;prenom;classe\r\n" + body).encode("utf-8"))
    return path


PEOPLE = [  # profil, nom, prenom, id_ent, former
    ("ELV", "MARTIN", "Léa", "", False), ("ELV", "MARTIN", "Léa", "", True), ("ELV", "ROUX", "Jean-Marc", "", False),
    ("TUT", "ROUX", "Paul", "r-paul", False), ("ENS", "BONNET", "Stéphane", "", False), ("TUT", "BONNET", "Stéphane", "", False),
    ("ELV", "DUPONT-SAINT-GERMAIN-DES-CHAMPS", "Lou", "", False), ("ENS", "O’NEIL", "Siobhan", "", False),
    ("DIR", "GIRARD", "Marie-Hélène", "0042", False), ("TUT", "GIRARD", "Hugo", "", True),
]
EXPORT = [("e-lea", "Eleve", "MARTIN", "lea", "6A"), ("e-jm", "Eleve", "Roux", "jean marc", "5B"),
          ("r-paul", "Parent", "ROUX", "Paul", ""), ("p-sb", "Enseignant", "BONNET", "Stephane", ""),
          ("t-sb", "Parent", "Bonnet", "stéphane", ""), ("e-lou", "Eleve", "DUPONT-SAINT-GERMAIN-DES-CHAMPS", "LOU", "4C"),
          ("p-so", "Enseignant", "O’Neil", "siobhan", ""), ("42", "Enseignant", "Girard", "marie-hélène", ""),
          ("0042", "Parent", "GIRARD", "Hugo", ""), ("zz1", "Personnel", "AGENT", "Entretien", "")]


def sacoche_with(tmp_path: Path) -> tuple[Store, list[Account]]:
    """The simulator's store holding PEOPLE, and the same accounts as the bot reads them."""
    store = Store(tmp_path / "sacoche.sqlite")
    store.add_school(123, "Collège", "0341234G")
    accounts = []
    pages = {"ELV": "administrateur_eleve", "TUT": "administrateur_parent"}
    for number, (profil, nom, prenom, id_ent, former) in enumerate(PEOPLE):
        user_id = store.add_user(123, profil, f"login{number}", "x", clean.nom(nom), clean.prenom(prenom), id_ent)
        if former:
            store.execute("UPDATE user SET sortie = '2024-07-05' WHERE id = ?", (user_id,))
        row = store.user(user_id)
        accounts.append(Account.from_row({"id": str(user_id), "Nom": row["nom"], "Prénom": row["prenom"],
                                          "Id. ENT": row["id_ent"], "Profil": profil if profil != "ELV" else ""},
                                         pages.get(profil, "administrateur_professeur"), former))
    return store, accounts


def simulator_rows(html: str) -> list[tuple[str, str]]:
    sections = html.split("<tbody>")[1:]
    cells = [re.findall(r'<tr(?: class="new")?><td>([^<]*)</td><td(?: class="b")?>([^<]*)</td></tr>', s) for s in sections]
    unescaped = [[[c.replace("&#39;", "'").replace("&amp;", "&") for c in row] for row in rows] for rows in cells]
    return matching.reported_rows(*unescaped)


def test_prediction_equals_the_simulators_report_with_former_namesakes(tmp_path):
    store, accounts = sacoche_with(tmp_path)
    path = write_export(tmp_path, EXPORT)
    prediction = matching.predict(read_ent_csv(path), accounts)
    report = simulator_rows(import_ent(store, 123, path.read_bytes(), "esup_montpellier"))
    assert matching.differences(prediction, report) == []
    verdicts = {p.line.label: p.verdict for p in prediction.lines}
    assert verdicts["MARTIN Lea [e-lea]"] is Verdict.HOMONYMS          # a former account counts
    assert verdicts["ROUX Jean Marc [e-jm]"] is Verdict.UNKNOWN         # a space is not a hyphen
    assert verdicts["ROUX Paul [r-paul]"] is Verdict.SAME
    assert verdicts["DUPONT-SAINT-G.-DES-C. Lou [e-lou]"] is Verdict.SET   # cut the same way on both sides
    # "’" is outside Latin-1: "z" on both sides, but upper-cased on the file's side only.
    assert verdicts["OZNEIL Siobhan [p-so]"] is Verdict.UNKNOWN
    assert verdicts["GIRARD Marie-Helene [42]"] is Verdict.SAME        # "42" == "0042" for PHP
    assert verdicts["GIRARD Hugo [0042]"] is Verdict.TAKEN


def test_a_flipped_rule_shows_as_differences(tmp_path, monkeypatch):
    store, accounts = sacoche_with(tmp_path)
    path = write_export(tmp_path, EXPORT)
    report = simulator_rows(import_ent(store, 123, path.read_bytes(), "esup_montpellier"))
    # A bot that compared ids as plain strings would think "42" new for the one holding "0042".
    monkeypatch.setattr(matching, "php_equal", lambda left, right: left == right)
    gaps = matching.differences(matching.predict(read_ent_csv(path), accounts), report)
    assert gaps == ["GIRARD Marie-Helene [42] : prévu posé, SACoche a répondu inchangé"]


def test_homonyms_are_settled_by_profile_and_class_never_twice_nor_on_a_held_id(tmp_path):
    _, accounts = sacoche_with(tmp_path)
    accounts = [a if a.nom != "MARTIN" or a.former else Account(**{**a.__dict__, "class_name": "6A"}) for a in accounts]
    path = write_export(tmp_path, EXPORT + [("p-sb2", "Enseignant", "BONNET", "Stephane", "")])
    prediction = matching.predict(read_ent_csv(path), accounts)
    settled = {s.line.label: s for s in matching.settle_homonyms(prediction, accounts)}
    # The current MARTIN Léa is in 6A as the ENT says; the former one has no class.
    assert settled["MARTIN Lea [e-lea]"].account.former is False
    assert settled["BONNET Stephane [t-sb]"].account.kind == "parent"
    # Two teacher lines for one teacher account: neither is chosen.
    for label in ("BONNET Stephane [p-sb]", "BONNET Stephane [p-sb2]"):
        assert settled[label].account is None and "même compte" in settled[label].reason
    # An id another account holds is never given.
    held = [a if a.kind != "parent" or a.nom != "BONNET" else a for a in accounts]
    held.append(Account(user_id="999", kind="élève", nom="X", prenom="Y", id_ent="t-sb"))
    again = {s.line.label: s for s in matching.settle_homonyms(prediction, held)}
    assert again["BONNET Stephane [t-sb]"].account is None and "autre compte" in again["BONNET Stephane [t-sb]"].reason


def test_unknown_names_get_near_suggestions(tmp_path):
    _, accounts = sacoche_with(tmp_path)
    path = write_export(tmp_path, EXPORT)
    prediction = matching.predict(read_ent_csv(path), accounts)
    jean_marc = next(p.line for p in prediction.of(Verdict.UNKNOWN) if p.line.nom == "ROUX")
    neighbours = matching.NameNeighbours(accounts)
    assert neighbours.closest(jean_marc)[0][1].prenom == "Jean-Marc"
    assert "ponctuation" in neighbours.why_unknown(jean_marc)
    agent = next(p.line for p in prediction.of(Verdict.UNKNOWN) if p.line.nom == "AGENT")
    assert "personnel" in neighbours.why_unknown(agent)
    oneil = next(p.line for p in prediction.of(Verdict.UNKNOWN) if p.line.nom == "OZNEIL")
    assert "hors de l'alphabet Latin-1" in neighbours.why_unknown(oneil)


def test_a_second_or_missing_first_name_gets_its_account_suggested():
    """« PARIS leo pierre » is 6 edits from « PARIS Leo »: too far for the edit distance, found by
    comparing first names within the surname; the other way round and with a hyphen too."""
    accounts = [Account(user_id="1", kind="élève", nom="PARIS", prenom="Leo"),
                Account(user_id="2", kind="élève", nom="PARIS", prenom="Yasmine"),
                Account(user_id="3", kind="parent", nom="PARIS", prenom="Sophie"),
                Account(user_id="4", kind="personnel", nom="DURAND", prenom="Anne Marie"),
                Account(user_id="5", kind="élève", nom="LÉGER", prenom="Jean-Pierre")]
    neighbours = matching.NameNeighbours(accounts)

    def line(nom, prenom, kind="élève"):
        return SimpleNamespace(nom=nom, prenom=prenom, kind=kind)

    second = line("PARIS", "Leo Pierre")
    assert neighbours.closest(second) == []                        # the edit distance alone: nothing
    assert [a.user_id for _, a in neighbours.suggestions(second)] == ["1"]
    assert "prénom de plus ou de moins" in neighbours.why_unknown(second)
    assert [a.user_id for _, a in neighbours.suggestions(line("DURAND", "Marie", "personnel"))] == ["4"]   # one missing
    assert [a.user_id for _, a in neighbours.suggestions(line("LEGER", "Jean"))] == ["5"]        # accents, hyphen
    # A different first name of the same surname is no such variant; a near spelling still comes by edits.
    assert "1" not in [a.user_id for _, a in neighbours.suggestions(line("PARIS", "Maximilien"))]
    assert [a.user_id for _, a in neighbours.suggestions(line("PARIS", "Leon"))][:1] == ["1"]
    # The same name up to punctuation comes first, before a first-name variant.
    accounts.append(Account(user_id="6", kind="élève", nom="PARIS", prenom="Leo-Pierre"))
    assert [a.user_id for _, a in matching.NameNeighbours(accounts).suggestions(second)][:2] == ["6", "1"]


def test_nearest_names_are_those_every_comparison_finds():
    """The letter-pair filter only skips accounts too far to count: on random names with typos,
    the nearest ones are exactly those found by measuring every account."""
    import random
    rng = random.Random(5)
    letters = "ABCDEFGHIJLMNOPRSTUVÉÈ-' "

    def word(size):
        return "".join(rng.choice(letters) for _ in range(size)).strip() or "A"

    def typo(text):
        chars = list(text)
        for _ in range(rng.randint(0, 5)):
            spot = rng.randrange(len(chars) + 1)
            match rng.randint(0, 2):
                case 0: chars.insert(spot, rng.choice(letters))
                case 1 if chars: chars.pop(min(spot, len(chars) - 1))
                case _ if chars: chars[min(spot, len(chars) - 1)] = rng.choice(letters)
        return "".join(chars).strip() or "B"

    accounts = [matching.Account(user_id=str(n), kind="élève", nom=word(rng.randint(2, 14)), prenom=word(rng.randint(1, 9)))
                for n in range(400)]
    neighbours = matching.NameNeighbours(accounts)
    for n in range(100):
        source = rng.choice(accounts)
        line = SimpleNamespace(nom=typo(source.nom), prenom=typo(source.prenom)) if n % 3 else \
            SimpleNamespace(nom=word(rng.randint(1, 16)), prenom=word(rng.randint(1, 8)))
        wanted = matching._plain(f"{line.nom} {line.prenom}")
        every = sorted(((matching._distance(wanted, matching._plain(f"{a.nom} {a.prenom}")), a) for a in accounts),
                       key=lambda pair: (pair[0], pair[1].nom, pair[1].prenom))
        expected = [(d, a.user_id) for d, a in every if d <= 4]
        assert [(d, a.user_id) for d, a in neighbours.closest(line, limit=len(accounts))] == expected

"""How the simulated SACoche reads the STS-Web and SIECLE files (steps 10 and 20 of the wizard),
as the real one does: zip entries, UAI and year checks, SACoche's own
normalisation, and what it keeps. Written apart from the bot's reader on purpose: the tests
compare the two."""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections import Counter
from datetime import date

from defusedxml import ElementTree as SafeET

from . import clean
from .profiles import PROFILES, STAFF

CATEGORIES = {
    "siecle_professeurs_directeurs_oui": "professeurs",
    "siecle_eleves_oui": "eleves",
    "siecle_parents_oui": "parents",
}


class ImportRefused(Exception):
    """A refusal SACoche prints in #ajax_msg (class alerte)."""


def school_year(today: date, switch_month: int) -> str:
    return str(today.year if today.month >= switch_month else today.year - 1)


# Step 10 -------------------------------------------------------------------------------------
def uploaded_xml(kind: str, filename: str, data: bytes, uai: str, year: str) -> tuple[bytes, str]:
    """The XML to keep from an upload, and an optional warning (wrong SIECLE variant)."""
    if not data:
        raise ImportRefused("Aucune donnée reçue ! Fichier trop lourd ? Taille maximale autorisée dépassée ?")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if filename.startswith(".") or extension not in ("xml", "zip"):
        raise ImportRefused("L'extension du fichier transmis n'est pas conforme !")
    if b"<?php" in data:
        raise ImportRefused("Le fichier contient du PHP, ce qui est prohibé par sécurité !")
    warning = ""
    if extension == "xml":
        return data, warning
    entry = {"professeurs": f"sts_emp_{uai}_{year}.xml", "eleves": "ElevesSansAdresses.xml",
             "parents": "ResponsablesAvecAdresses.xml"}[kind]
    if kind == "eleves" and filename.find("ElevesAvecAdresses") > 0:
        entry = "ElevesAvecAdresses.xml"
        warning = "Vous avez fourni le fichier avec adresses ! Vous pouvez toutefois poursuivre…"
    if kind == "parents" and filename.find("ResponsablesSansAdresses") > 0:
        entry = "ResponsablesSansAdresses.xml"
        warning = ("Vous avez fourni le fichier sans adresses ! Si vous poursuivez, sachez que les "
                   "adresses ne seront pas trouvées…")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if entry not in archive.namelist():
                raise ImportRefused(f"Fichier {entry} non trouvé dans l'archive ZIP !")
            return archive.read(entry), warning
    except zipfile.BadZipFile as exc:
        raise ImportRefused(f"Problème d'ouverture de l'archive ZIP ({exc}) !") from None


# Normalisation (SACoche's Clean::nom / prenom / ref) ------------------------------------------
def _clean(text: str | None) -> str:
    text = "".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())


def clean_nom(text: str | None) -> str:
    return clean.nom(text or "")


def clean_prenom(text: str | None) -> str:
    return clean.prenom(text or "")


def clean_ref(text: str | None) -> str:
    return _clean(text).upper()


def group_key(ref: str) -> str:
    return "i" + re.sub(r"[^a-z0-9_-]", "", ref.lower())


def _text(node, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _parse(xml: bytes):
    try:
        return SafeET.fromstring(xml)
    except Exception:
        raise ImportRefused("Le fichier transmis n'est pas un XML valide !") from None


def _check_uai_year(file_uai: str, file_year: str, uai: str, year: str, missing_message: str) -> None:
    if not file_uai:
        raise ImportRefused(missing_message)
    if file_uai != uai:
        raise ImportRefused(f"Le fichier transmis est issu de l'établissement {file_uai} et non {uai} !")
    if file_year != year:
        raise ImportRefused(f"Le fichier transmis ne correspond pas à l'année scolaire {year} !")


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count <= 1 else plural}"


# Step 20 -------------------------------------------------------------------------------------
def extract(kind: str, xml: bytes, uai: str, year: str, today: date,
            current_students: dict[int, int]) -> tuple[dict, list[str]]:
    """Parsed content (JSON-ready) and the step-20 report lines; `current_students` maps the
    SIECLE id of each current SACoche student to its account id (parents need it)."""
    root = _parse(xml)
    return {"professeurs": _extract_sts, "eleves": _extract_eleves,
            "parents": _extract_parents}[kind](root, uai, year, today, current_students)


def _extract_sts(root, uai, year, today, _students):
    if root.find("PARAMETRES/APPLICATION_SOURCE") is not None and _text(root, "PARAMETRES/APPLICATION_SOURCE"):
        raise ImportRefused("Le fichier transmis est issu d'un éditeur privé d'emploi du temps, pas de STS !")
    uaj = root.find("PARAMETRES/UAJ")
    annee = root.find("PARAMETRES/ANNEE_SCOLAIRE")
    _check_uai_year(uaj.get("CODE", "") if uaj is not None else "",
                    annee.get("ANNEE", "") if annee is not None else "", uai, year,
                    "Le contenu du fichier transmis ne correspond pas à ce qui est attendu !")
    persons: dict[str, dict] = {}
    today_text = today.isoformat()
    for path in ("DONNEES/INDIVIDUS/INDIVIDU", "DONNEES/SUPPLEANTS/SUPPLEANT"):
        for node in root.iterfind(path):
            profil = _text(node, "FONCTION") or "ENS"
            if profil not in STAFF or not node.get("ID", "").isdigit():
                continue
            sexe = _text(node, "SEXE")
            pp = [clean_ref(_text(p, "CODE_STRUCTURE")) for p in node.iterfind("PROFS_PRINC/PROF_PRINC")
                  if _text(p, "DATE_FIN") >= today_text]
            persons[node.get("ID")] = {
                "sconet_id": int(node.get("ID")), "sconet_num": 0, "reference": "", "profil": profil,
                "genre": {"1": "M", "2": "F"}.get(sexe, "I"), "nom": clean_nom(_text(node, "NOM_USAGE")),
                "prenom": clean_prenom(_text(node, "PRENOM")), "email": "", "naissance": "",
                "classes": [], "groupes": [], "pp": pp, "classe": "",
            }
            for code in (clean_ref(_text(p, "CODE_STRUCTURE")) for p in node.iterfind("PROFS_PRINC/PROF_PRINC")):
                persons[node.get("ID")]["classes"].append(code)
    classes: dict[str, dict] = {}
    groups: dict[str, dict] = {}
    for tag, target, field in (("DIVISIONS/DIVISION", classes, "classes"), ("GROUPES/GROUPE", groups, "groupes")):
        for node in root.iterfind(f"DONNEES/STRUCTURE/{tag}"):
            ref = clean_ref(node.get("CODE"))
            if not ref:
                continue
            target.setdefault(group_key(ref), {"ref": ref, "nom": _clean(_text(node, "LIBELLE_LONG")) or ref, "mef": ""})
            for teacher in node.iterfind("SERVICES/SERVICE/ENSEIGNANTS/ENSEIGNANT"):
                person = persons.get(teacher.get("ID", ""))
                if person is not None and ref not in person[field]:
                    person[field].append(ref)
    # PP classes are listed even without services.
    for person in persons.values():
        for ref in person["classes"]:
            classes.setdefault(group_key(ref), {"ref": ref, "nom": ref, "mef": ""})
        person["classes"] = sorted(set(person["classes"]))
    if not persons:
        raise ImportRefused("Aucun utilisateur trouvé !")
    lines = ["Matières du Livret Scolaire actualisées."]
    # One line per profile, in the order the file first names it, as SACoche counts them.
    for profil, count in Counter(p["profil"] for p in persons.values()).items():
        names = PROFILES[profil]
        lines.append(f"{_plural(count, names.long_singular, names.long_plural)} {'trouvé' if count <= 1 else 'trouvés'}.")
    lines += _structure_lines(classes, groups)
    return {"persons": list(persons.values()), "classes": classes, "groups": groups}, lines


def _structure_lines(classes: dict, groups: dict) -> list[str]:
    lines = []
    lines.append(f"{_plural(len(classes), 'classe trouvée', 'classes trouvées')}." if classes
                 else "!Aucune classe trouvée !")
    lines.append(f"{_plural(len(groups), 'groupe trouvé', 'groupes trouvés')}." if groups
                 else "!Aucun groupe trouvé !")
    return lines


def _extract_eleves(root, uai, year, today, _students):
    _check_uai_year(_text(root, "PARAMETRES/UAJ"), _text(root, "PARAMETRES/ANNEE_SCOLAIRE"), uai, year,
                    "Le contenu du fichier transmis ne correspond pas à ce qui est attendu !")
    persons: dict[str, dict] = {}
    for node in root.iterfind("DONNEES/ELEVES/ELEVE"):
        eleve_id = node.get("ELEVE_ID", "")
        if not eleve_id.isdigit():
            continue
        nom = _text(node, "NOM") or _text(node, "NOM_USAGE") or _text(node, "NOM_DE_FAMILLE")
        sexe = _text(node, "CODE_SEXE")
        persons[eleve_id] = {
            "sconet_id": int(eleve_id), "sconet_num": int(node.get("ELENOET") or 0),
            "reference": _text(node, "ID_NATIONAL"), "profil": "ELV",
            "genre": {"1": "M", "2": "F"}.get(sexe, "I"), "nom": clean_nom(nom),
            "prenom": clean_prenom(_text(node, "PRENOM")), "email": _text(node, "MEL").lower(),
            "naissance": _text(node, "DATE_NAISS"), "mef": _text(node, "CODE_MEF"),
            "sortie": _text(node, "DATE_SORTIE"), "classe": "", "groupes": [],
        }
    classes: dict[str, dict] = {}
    groups: dict[str, dict] = {}
    for node in root.iterfind("DONNEES/STRUCTURES/STRUCTURES_ELEVE"):
        person = persons.get(node.get("ELEVE_ID", ""))
        if person is None or person["sortie"]:
            continue   # a departed student's structures are ignored
        for structure in node.iterfind("STRUCTURE"):
            ref = clean_ref(_text(structure, "CODE_STRUCTURE"))
            kind = _text(structure, "TYPE_STRUCTURE")
            if not ref:
                continue
            target = classes if kind == "D" else groups if kind == "G" else None
            if target is None:
                continue
            entry = target.setdefault(group_key(ref), {"ref": ref, "nom": ref, "mef": ""})
            if person["mef"]:
                entry["mef"] = person["mef"]   # the last student placed in it with a MEF gives the level
            if kind == "D":
                person["classe"] = entry["ref"]
            elif entry["ref"] not in person["groupes"]:
                person["groupes"].append(entry["ref"])
    kept = [p for p in persons.values() if not p["sortie"]]
    if not persons:
        raise ImportRefused("Aucun utilisateur trouvé !")
    lines = [f"{_plural(len(kept), 'élève trouvé', 'élèves trouvés')}."]
    lines += _structure_lines(classes, groups)
    return {"persons": list(persons.values()), "classes": classes, "groups": groups}, lines


def _extract_parents(root, uai, year, today, current_students):
    _check_uai_year(_text(root, "PARAMETRES/UAJ"), _text(root, "PARAMETRES/ANNEE_SCOLAIRE"), uai, year,
                    "Le fichier transmis ne comporte pas de numéro UAI !")
    addresses = {}
    for node in root.iterfind("DONNEES/ADRESSES/ADRESSE"):
        lines = [_clean(_text(node, f"LIGNE{i}_ADRESSE")).title()[:50] for i in range(1, 5)]
        postcode, town = _text(node, "CODE_POSTAL")[:10], _clean(_text(node, "LIBELLE_POSTAL")).upper()[:45]
        foreign = _clean(_text(node, "COMMUNE_ETRANGERE"))
        if foreign and not town:
            head, _, tail = foreign.partition(" ")
            postcode, town = (head[:10], tail.upper()[:45]) if tail and len(head) < 10 else ("", foreign.upper()[:45])
        addresses[node.get("ADRESSE_ID", "")] = {
            "ligne1": lines[0], "ligne2": lines[1], "ligne3": lines[2], "ligne4": lines[3],
            "code_postal": postcode, "commune": town, "pays": _clean(_text(node, "LL_PAYS")).upper()[:35]}
    links = []
    for node in root.iterfind("DONNEES/RESPONSABLES/RESPONSABLE_ELEVE"):
        resp = _text(node, "RESP_LEGAL")
        eleve = _text(node, "ELEVE_ID")
        if resp in ("", "0") or not eleve.isdigit() or int(eleve) not in current_students:
            continue
        links.append({"eleve_sconet_id": int(eleve), "personne_id": _text(node, "PERSONNE_ID"),
                      "resp_legal": int(resp) if resp.isdigit() else 1})
    linked = {link["personne_id"] for link in links}
    persons = []
    for node in root.iterfind("DONNEES/PERSONNES/PERSONNE"):
        personne_id = node.get("PERSONNE_ID", "")
        if personne_id not in linked or not personne_id.isdigit():
            continue
        nom = _text(node, "NOM") or _text(node, "NOM_USAGE") or _text(node, "NOM_DE_FAMILLE")
        persons.append({
            "sconet_id": int(personne_id), "sconet_num": 0, "reference": "", "profil": "TUT",
            "genre": {"M.": "M", "MME": "F"}.get(_text(node, "LC_CIVILITE"), "I"),
            "nom": clean_nom(nom), "prenom": clean_prenom(_text(node, "PRENOM")),
            "email": _text(node, "MEL").lower(), "naissance": "", "classe": "",
            "adresse": addresses.get(_text(node, "ADRESSE_ID")),
        })
    if not persons:
        raise ImportRefused("Aucun parent trouvé ayant un enfant dans l'établissement : importer d'abord les élèves !")
    address_count = len(addresses)
    lines = [f"{_plural(len(persons), 'responsable légal (parent, tuteur) trouvé', 'responsables légaux (parents, tuteurs) trouvés')}.",
             f"{_plural(address_count, 'adresse trouvée', 'adresses trouvées')}." if address_count else "!Aucune adresse trouvée !",
             f"{_plural(len(links), 'lien de responsabilité trouvé', 'liens de responsabilités trouvés')}." if links
             else "!Aucun lien de responsabilité trouvé !"]
    return {"persons": persons, "links": links}, lines

"""How SACoche matches the ENT's account file to its accounts ("Importer / Imposer les
identifiants d'un ENT"), worked out by the bot before the upload, so that it can tell what
SACoche will set, refuse and leave, check SACoche's real answer against it, and settle the
homonyms SACoche refuses where the export tells the people apart.

SACoche's rules, as its source applies them (release 2017):
- each line's cells are cleaned: the ENT id trimmed, control characters removed, cut to 63;
  the surname and first name first lose their accents through a Latin-1 table (a character
  outside Latin-1, or a "?", becomes "z"), then the surname is upper-cased and the first name
  title-cased, both cut to 25 characters by abbreviating words from the last one ("M.-C.");
- the lines are taken in the order of surname then first name (by bytes);
- the candidates are every student, parent, teacher, director and inspector, current or
  former, compared by their stored names with accents removed, nothing else;
- a name borne by no candidate: "nom et prénom non trouvés"; by several: "homonymes";
- one candidate: its id equal to the line's ("identique"; numeric ids compare as numbers, as
  PHP's `==` does), else the id already held by any candidate before the upload ("déjà affecté
  à un autre utilisateur"), else set."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import StrEnum

from schoolfiles.ent_csv import EntAccount, EntCsv

# SACoche's accent table. PHP builds it in Latin-1, so the letters of its list that Latin-1
# lacks (Ŕ ŕ Š š Ÿ Ž ž) all became "?", and "?" maps to the replacement of the last one.
_LATIN1_FOLDING = dict(zip("ÀÁÂÃÄÅàáâãäåÞþÇçÐðÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøßÙÚÛÜùúûüÝýÿ",
                           "AAAAAAaaaaaaBbCcDdEEEEeeeeIIIIiiiiNnOOOOOOoooooosUUUUuuuuYyy"))
_OUTSIDE_LATIN1 = "z"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHP_BLANKS = " \t\n\r\0\x0b"
_ABBREVIATION_SEPARATORS = frozenset(b" -.'\"`&~,")
_PHP_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*", re.ASCII)
# Characters through which a word goes on for title case (apostrophes, dots, marks).
_WORD_GOES_ON = frozenset("'.:^`\u00b7\u2018\u2019\u2024\u2027")
MAX_NAME = 25
MAX_ENT_ID = 63


def fold_accents(text: str) -> str:
    """Clean::accents: `Éloïse O’NEIL` → `Eloise OzNEIL`."""
    return "".join(_OUTSIDE_LATIN1 if ord(ch) > 0xFF or ch == "?" else _LATIN1_FOLDING.get(ch, ch) for ch in text)


def _letter_with_case(ch: str) -> bool:
    return ch.upper() != ch.lower() or unicodedata.category(ch) in ("Lu", "Ll", "Lt")


def _continues_word(ch: str) -> bool:
    return ch in _WORD_GOES_ON or unicodedata.category(ch) in ("Mn", "Me", "Cf", "Lm", "Sk")


def php_title(text: str) -> str:
    """Clean::perso_ucwords. Plain ASCII goes through PHP's ucwords-like path: a letter after
    any non-letter goes up ("o'neil" → "O'Neil"). Other text through mb_convert_case(TITLE),
    where a word goes on across an apostrophe ("o'neil héloïse" → "O'neil Héloïse")."""
    if text.isascii():
        return re.sub(r"(^|[^a-z])([a-z])", lambda m: m[1] + m[2].upper(), text.lower()).strip(_PHP_BLANKS)
    result = []
    after_letter = False
    for ch in text:
        result.append(ch.lower() if after_letter else ch.title())
        if not _continues_word(ch):
            after_letter = _letter_with_case(ch)
    return "".join(result)


def shorten(text: str) -> str:
    """SACoche's cut to 25 characters: from the last word back, a word of 4 characters or more
    becomes its first letter and a dot, until the whole fits. Its PHP walks the UTF-8 bytes
    for as many steps as there are characters, which this follows (a long name with accents
    loses its last bytes)."""
    count = len(text)
    if count <= MAX_NAME:
        return text
    raw = text.encode("utf-8")[:count]
    runs: list[bytearray] = []
    for byte in raw:
        if runs and (byte in _ABBREVIATION_SEPARATORS) == (runs[-1][0] in _ABBREVIATION_SEPARATORS):
            runs[-1].append(byte)
        else:
            runs.append(bytearray([byte]))
    for run in reversed(runs):
        width = len(bytes(run).decode("utf-8", errors="replace"))
        if width <= 3:
            continue
        del run[1:]
        run.extend(b".")
        count -= width - 2
        if count <= MAX_NAME:
            break
    return b"".join(runs).decode("utf-8", errors="ignore")


def _php_clean(text: str) -> str:
    return _CONTROL.sub("", text.strip(_PHP_BLANKS))


def sacoche_surname(text: str) -> str:
    """A surname as SACoche stores it (Clean::nom)."""
    return shorten(_php_clean(text).upper())


def sacoche_first_name(text: str) -> str:
    """A first name as SACoche stores it (Clean::prenom)."""
    return shorten(php_title(_php_clean(text)))


def sacoche_ent_id(text: str) -> str:
    return _php_clean(text)[:MAX_ENT_ID]


def php_equal(left: str, right: str) -> bool:
    """PHP 8's `==` on two strings: as numbers when both read as numbers ("0123" == "123")."""
    if _PHP_NUMBER.fullmatch(left) and _PHP_NUMBER.fullmatch(right):
        return float(left) == float(right)
    return left == right


# What the bot knows of SACoche's accounts and of the file ---------------------------------------
KINDS = {"administrateur_eleve": "élève", "administrateur_parent": "parent", "administrateur_professeur": "personnel"}
# The ENT's profile → the SACoche list its person is on (a principal may be "Enseignant" in the ENT).
ENT_PROFILE_KINDS = {"eleve": "élève", "parent": "parent", "enseignant": "personnel", "personnel": "personnel",
                     "direction": "personnel", "documentaliste": "personnel", "cpe": "personnel",
                     "education": "personnel", "inspecteur": "personnel"}


@dataclass(frozen=True)
class Account:
    """One SACoche account, read from its user list."""
    user_id: str
    kind: str            # élève | parent | personnel
    nom: str
    prenom: str
    id_ent: str = ""
    former: bool = False
    profile: str = ""    # the list's "Profil" (ENS, DIR, TUT…); empty for students
    sconet_id: str = ""
    birth: str = ""
    login: str = ""
    class_name: str = ""  # students: their class, when the bot knows it (SIECLE file)

    @classmethod
    def from_row(cls, row: dict, list_page: str, former: bool, class_name: str = "") -> "Account":
        return cls(user_id=row.get("id", ""), kind=KINDS[list_page], nom=row.get("Nom", ""), prenom=row.get("Prénom", ""),
                   id_ent=row.get("Id. ENT", ""), former=former, profile=row.get("Profil", ""),
                   sconet_id=row.get("Id Sconet", ""), birth=row.get("Date Naiss.", ""), login=row.get("Login", ""),
                   class_name=class_name)

    @property
    def list_page(self) -> str:
        return next(page for page, kind in KINDS.items() if kind == self.kind)

    @property
    def compared_name(self) -> tuple[str, str]:
        return fold_accents(self.nom), fold_accents(self.prenom)

    def describe(self) -> dict:
        """The account as a person needs it to choose (a row of the report's table)."""
        return {"Nom": f"{self.nom} {self.prenom}", "Profil": " ".join(filter(None, (self.kind, self.profile))),
                "Classe": self.class_name, "Date de naissance": self.birth, "Login": self.login,
                "Id. ENT actuel": self.id_ent, "Compte": "ancien" if self.former else "actuel",
                "N° SACoche": self.user_id}


@dataclass(frozen=True)
class FileLine:
    """One line of the ENT file as SACoche reads it, with what the export adds."""
    ent_id: str
    nom: str
    prenom: str
    source: EntAccount

    @property
    def label(self) -> str:
        return f"{self.nom} {self.prenom} [{self.ent_id}]"

    @property
    def file_label(self) -> str:
        """The line as the ENT export writes it, for a person to find it in the ENT (the label
        is SACoche's reading of it, accents folded and names cut)."""
        return f"{self.source.nom} {self.source.prenom} [{self.ent_id}]"

    @property
    def kind(self) -> str:
        profile = fold_accents(self.source.profile).lower().strip()
        return ENT_PROFILE_KINDS.get(profile, "")

    @property
    def class_name(self) -> str:
        return self.source.classe


class Verdict(StrEnum):
    SET = "set"
    TAKEN = "id_taken"
    HOMONYMS = "homonyms"
    UNKNOWN = "unknown_in_sacoche"
    SAME = "same"
    NOT_GIVEN = "not_given"


REASONS = {Verdict.TAKEN: "identifiant d'ENT déjà affecté à un autre utilisateur",
           Verdict.HOMONYMS: "homonymes trouvés dans la base : traiter ce cas manuellement",
           Verdict.UNKNOWN: "nom et prénom non trouvés dans la base",
           Verdict.SAME: "identifiant d'ENT identique",
           Verdict.NOT_GIVEN: "identifiant d'ENT non imposé"}
VERDICT_OF_REASON = {reason: verdict for verdict, reason in REASONS.items()}


@dataclass
class Predicted:
    line: FileLine
    verdict: Verdict
    candidates: list[Account] = field(default_factory=list)


@dataclass
class Prediction:
    lines: list[Predicted]

    def of(self, verdict: Verdict) -> list[Predicted]:
        return [p for p in self.lines if p.verdict is verdict]

    def counts(self) -> dict[str, int]:
        return {verdict.value: len(self.of(verdict)) for verdict in Verdict}

    def expected_rows(self) -> list[tuple[str, str]]:
        """What SACoche's report will list, as (name [id], verdict) pairs."""
        return [(_line_key(p.line.nom, p.line.prenom, p.line.ent_id), p.verdict.value) for p in self.lines]


def file_lines(export: EntCsv) -> list[FileLine]:
    lines = [FileLine(sacoche_ent_id(a.ent_id), sacoche_surname(fold_accents(a.nom)),
                      sacoche_first_name(fold_accents(a.prenom)), a) for a in export.accounts]
    return sorted(lines, key=lambda line: (line.nom.encode(), line.prenom.encode(), line.ent_id.encode()))


def predict(export: EntCsv, accounts: list[Account]) -> Prediction:
    """SACoche's answer to this file, line by line, for these accounts (current and former)."""
    bearers: dict[tuple[str, str], list[Account]] = {}
    for account in accounts:
        bearers.setdefault(account.compared_name, []).append(account)
    held_before = [account.id_ent for account in accounts if account.id_ent]
    predicted = []
    for line in file_lines(export):
        candidates = bearers.get((line.nom, line.prenom), [])
        if not line.ent_id:
            verdict = Verdict.NOT_GIVEN
        elif not candidates:
            verdict = Verdict.UNKNOWN
        elif len(candidates) > 1:
            verdict = Verdict.HOMONYMS
        elif php_equal(line.ent_id, candidates[0].id_ent):
            verdict = Verdict.SAME
        elif any(php_equal(line.ent_id, held) for held in held_before):
            verdict = Verdict.TAKEN
        else:
            verdict = Verdict.SET
        predicted.append(Predicted(line, verdict, candidates))
    return Prediction(predicted)


# SACoche's real answer, against the prediction --------------------------------------------------
_SET_CELL = re.compile(r"^(?P<name>.*) \((?P<info>[^()]*)\)$")


def _line_key(nom: str, prenom: str, ent_id: str) -> str:
    return " ".join(f"{nom} {prenom} [{ent_id}]".split())


def reported_rows(set_rows: list[list[str]], refused_rows: list[list[str]], same_rows: list[list[str]]) -> list[tuple[str, str]]:
    """SACoche's three tables as (name [id], verdict) pairs, the prediction's own shape."""
    rows = []
    for cells in set_rows:
        match = _SET_CELL.match(cells[0].strip())
        name = match["name"] if match else cells[0].strip()
        ent_id = cells[-1].strip().removeprefix("Id ENT :").strip()
        rows.append((" ".join(f"{name} [{ent_id}]".split()), Verdict.SET.value))
    for cells in refused_rows + same_rows:
        verdict = VERDICT_OF_REASON.get(cells[-1].strip(), Verdict.UNKNOWN)
        text = cells[0].strip() if verdict is not Verdict.NOT_GIVEN else cells[0].strip() + " []"
        rows.append((" ".join(text.split()), verdict.value))
    return rows


def differences(prediction: Prediction, reported: list[tuple[str, str]]) -> list[str]:
    """Every line where SACoche did not do what the bot predicted, in French."""
    expected: dict[str, list[str]] = {}
    for key, verdict in prediction.expected_rows():
        expected.setdefault(key, []).append(verdict)
    seen: dict[str, list[str]] = {}
    for key, verdict in reported:
        seen.setdefault(key, []).append(verdict)
    names = {Verdict.SET.value: "posé", Verdict.TAKEN.value: "refusé (identifiant déjà affecté)",
             Verdict.HOMONYMS.value: "refusé (homonymes)", Verdict.UNKNOWN.value: "refusé (nom inconnu)",
             Verdict.SAME.value: "inchangé", Verdict.NOT_GIVEN.value: "ignoré (identifiant vide)"}
    notes = []
    for key in sorted(set(expected) | set(seen)):
        want, got = sorted(expected.get(key, [])), sorted(seen.get(key, []))
        if want != got:
            said = ", ".join(names[v] for v in want) or "absent du rapport"
            did = ", ".join(names[v] for v in got) or "absent du rapport"
            notes.append(f"{key} : prévu {said}, SACoche a répondu {did}")
    return notes


# Settling the homonyms the export tells apart ---------------------------------------------------
def _class_key(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", fold_accents(text).upper())


@dataclass
class Settlement:
    """What the bot does with one line SACoche refused as homonyms."""
    line: FileLine
    account: Account | None = None      # the one account that fits, if any
    already: bool = False               # that account already holds the line's id
    reason: str = ""                    # why it is left to a person (French)
    candidates: list[Account] = field(default_factory=list)


def fitting(line: FileLine, candidates: list[Account]) -> list[Account]:
    """The candidates the export's extra columns do not rule out: its profile, its class for a
    student, its SIECLE id where the layout has one."""
    fit = candidates
    if line.kind:
        fit = [a for a in fit if a.kind == line.kind]
    if line.source.sconet_id:
        fit = [a for a in fit if a.sconet_id == line.source.sconet_id]
    if line.kind == "élève" and line.class_name and len(fit) > 1:
        fit = [a for a in fit if a.class_name and _class_key(a.class_name) == _class_key(line.class_name)]
    return fit


def settle_homonyms(prediction: Prediction, accounts: list[Account]) -> list[Settlement]:
    """For each line refused as homonyms: the one account it designates, or why a person must
    choose. Never an id another account holds, never one account for two lines."""
    refused = prediction.of(Verdict.HOMONYMS)
    settlements = []
    for item in refused:
        fit = fitting(item.line, item.candidates)
        settlement = Settlement(item.line, candidates=item.candidates)
        if len(fit) == 1:
            settlement.account = fit[0]
        else:
            settlement.reason = ("aucun compte SACoche de ce nom ne correspond au profil ou à la classe de l'ENT"
                                 if not fit else f"{len(fit)} comptes SACoche de ce nom correspondent encore au "
                                                 "profil et à la classe de l'ENT")
        settlements.append(settlement)
    chosen: dict[str, list[Settlement]] = {}
    for settlement in settlements:
        if settlement.account is not None:
            chosen.setdefault(settlement.account.user_id, []).append(settlement)
    holders = {}
    for account in accounts:
        if account.id_ent:
            holders.setdefault(account.id_ent, set()).add(account.user_id)
    for settlement in settlements:
        account = settlement.account
        if account is None:
            continue
        if len(chosen[account.user_id]) > 1:
            settlement.reason = "plusieurs lignes de l'ENT désignent le même compte SACoche"
        elif php_equal(account.id_ent, settlement.line.ent_id) and account.id_ent:
            settlement.already = True
            continue
        elif any(php_equal(held, settlement.line.ent_id) and owners - {account.user_id}
                 for held, owners in holders.items()):
            settlement.reason = "cet identifiant ENT est déjà celui d'un autre compte SACoche"
        elif account.id_ent:
            settlement.reason = f"ce compte a déjà un autre identifiant ENT ({account.id_ent}), le robot ne le remplace pas"
        else:
            continue
        settlement.account = None
    return settlements


# Names SACoche does not know ----------------------------------------------------------------------
def _distance(left: str, right: str) -> int:
    """Levenshtein distance, by rows of the classic table: the reference _fast_distance agrees with."""
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, start=1):
        current = [i]
        for j, b in enumerate(right, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def _fast_distance(left: str, right: str) -> int:
    """The same distance, a column of the table at a time as the bits of one integer (Myers'
    bit-vector method, in Hyyrö's form): a few integer operations per letter of `right`
    instead of one step per cell."""
    if not left:
        return len(right)
    top = 1 << (len(left) - 1)
    everything = (1 << len(left)) - 1
    where: dict[str, int] = {}
    for position, letter in enumerate(left):
        where[letter] = where.get(letter, 0) | (1 << position)
    up, down, score = everything, 0, len(left)   # vertical +1 / −1 differences of the column
    for letter in right:
        equal = where.get(letter, 0)
        vertical = equal | down
        horizontal = (((equal & up) + up) ^ up) | equal
        rises = down | (~(horizontal | up) & everything)
        falls = up & horizontal
        if rises & top:
            score += 1
        elif falls & top:
            score -= 1
        rises = ((rises << 1) | 1) & everything
        falls = (falls << 1) & everything
        up = falls | (~(vertical | rises) & everything)
        down = rises & vertical
    return score


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", fold_accents(text).upper()).split())


def _bigrams(text: str) -> Counter:
    return Counter(text[i:i + 2] for i in range(len(text) - 1))


def _first_names_differ_by_one_side(ours: list[str], theirs: list[str]) -> bool:
    """Two spellings of one person's first names where one has a name the other lacks: « Leo
    Pierre » and « Leo », or « Marie » and « Anne Marie » (a second or a missing first name)."""
    mine, other = set(ours), set(theirs)
    return mine != other and (mine <= other or other <= mine)


class NameNeighbours:
    """SACoche's accounts by their bare names (accents, case and punctuation aside), to find the
    nearest ones to an ENT line's name. Comparing every unknown line with every account took
    minutes at 2,000 students: an edit distance of at most `max_distance` leaves two names
    sharing at least (longer length − 1 − 2 × max_distance) letter pairs, so only the accounts
    that share that many pairs, and whose length is close enough, are measured exactly. A
    second or a missing first name is too far for that distance (« PARIS Leo Pierre » is 6 edits
    from « PARIS Leo »): the accounts of the same bare surname are also compared first name by
    first name, through an index of surnames (one look-up per line)."""

    def __init__(self, accounts: list[Account], max_distance: int = 4):
        self.accounts = accounts
        self.max_distance = max_distance
        self.names = [_plain(f"{account.nom} {account.prenom}") for account in accounts]
        self.by_length: dict[int, list[int]] = defaultdict(list)
        self.by_pair: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for index, name in enumerate(self.names):
            self.by_length[len(name)].append(index)
            for pair, count in _bigrams(name).items():
                self.by_pair[pair].append((index, count))
        self.by_surname: dict[str, list[Account]] = defaultdict(list)
        self.by_bare_surname: dict[str, list[int]] = defaultdict(list)
        for index, account in enumerate(accounts):
            self.by_surname[fold_accents(account.nom)].append(account)
            self.by_bare_surname[_plain(account.nom)].append(index)

    def closest(self, line: FileLine, limit: int = 3) -> list[tuple[int, Account]]:
        """The accounts whose bare name is nearest the line's, nearest first (then by name)."""
        wanted = _plain(f"{line.nom} {line.prenom}")
        most = self.max_distance
        shared: Counter = Counter()
        for pair, count in _bigrams(wanted).items():
            for index, theirs in self.by_pair.get(pair, ()):
                shared[index] += min(count, theirs)
        scored = []
        for length in range(max(0, len(wanted) - most), len(wanted) + most + 1):
            needed = max(length, len(wanted)) - 1 - 2 * most
            for index in self.by_length.get(length, ()):
                if shared[index] >= needed:
                    distance = _fast_distance(wanted, self.names[index])
                    if distance <= most:
                        scored.append((distance, self.accounts[index]))
        scored.sort(key=lambda pair: (pair[0], pair[1].nom, pair[1].prenom))
        return scored[:limit]

    def other_first_names(self, line: FileLine) -> list[tuple[int, Account]]:
        """The accounts of the line's surname whose first names are the line's with one more or
        one less (a second first name written on one side only), with their edit distance."""
        wanted = _plain(f"{line.nom} {line.prenom}")
        first_names = _plain(line.prenom).split()
        return [(_fast_distance(wanted, self.names[index]), self.accounts[index])
                for index in self.by_bare_surname.get(_plain(line.nom), ())
                if _first_names_differ_by_one_side(first_names, _plain(self.accounts[index].prenom).split())]

    def suggestions(self, line: FileLine, limit: int = 3) -> list[tuple[int, Account]]:
        """The names to suggest for a line SACoche does not know: the same name up to punctuation
        first, then the same surname with a first name more or less, then the nearest by edits."""
        near = self.closest(line, limit)
        variants = self.other_first_names(line)
        found: dict[int, tuple[int, Account, bool]] = {}
        for distance, account in near:
            found[id(account)] = (distance, account, False)
        for distance, account in variants:
            found[id(account)] = (distance, account, True)
        ranked = sorted(found.values(), key=lambda item: (item[0] > 0, not item[2], item[0], item[1].nom, item[1].prenom))
        return [(distance, account) for distance, account, _ in ranked[:limit]]

    def why_unknown(self, line: FileLine, nearest: list[tuple[int, Account]] | None = None) -> str:
        """A likely cause for an ENT account SACoche has no one for, in French."""
        nearest = self.suggestions(line) if nearest is None else nearest
        if nearest and nearest[0][0] == 0 and any(ord(ch) > 0xFF for ch in nearest[0][1].nom):
            return ("le nom SACoche porte un caractère hors de l'alphabet Latin-1 (apostrophe typographique…) que "
                    "SACoche ne sait pas comparer : Id. ENT à poser à la main")
        if nearest and nearest[0][0] == 0:
            return "même nom à la ponctuation près (tiret, espace, apostrophe) : SACoche exige l'écriture exacte"
        if self.other_first_names(line):
            return "même nom, avec un prénom de plus ou de moins (second prénom ?)"
        if any(a.prenom.split()[:1] == line.prenom.split()[:1] for a in self.by_surname.get(line.nom, ()) if a.prenom):
            return "même nom, prénom écrit autrement (second prénom ?)"
        if nearest:
            return "nom proche d'un compte SACoche (faute de frappe, nom d'usage ?)"
        if line.kind == "personnel":
            return "personnel absent de l'export STS (sans fonction d'enseignement ?)"
        if line.kind == "élève":
            return "élève absent de SACoche (parti, ou sans classe dans SIECLE ?)"
        if line.kind == "parent":
            return "responsable absent de SACoche (enfant parti, ou non responsable légal ?)"
        return "personne absente des fichiers importés"

"""Page objects of the real SACoche (2017-09 release): ids, AJAX calls and messages as read in
its source and seen in a browser driving it. Flows call actions named after what an
administrator does; no selector lives outside this module."""
from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from bot.browser import DownloadBroken, PrivatePage, download_by_clicking
from bot.errors import FlowFailed, LoginRefused, site_words
from bot.fsutil import safe_name, write_file
from bot.landmarks import ARRIVAL_TIMEOUT_MS, Landmark, LandmarkReading, PageLandmarks, PageToFetch, SiteChanged, \
    css, read_fetched_pages, read_landmarks, require_landmarks
from bot.retry import RetryAfter, retry_with_backoff, with_retries
from bot.secrets import Secret
from bot.text import shorten

# Answers after which running the flow again from its start is expected to work: the page's own
# message when a request failed (server error, network), and the lost-session answers.
TRANSIENT_MESSAGES = ("Échec de la connexion", "Session absente / perdue / expirée",
                      "Authentification manquante ou perdue", "Jeton CSRF invalide")


def is_transient(message: str) -> bool:
    return any(part in message for part in TRANSIENT_MESSAGES)


# SACoche's anti brute-force answer; the delay (2 s, +1 per failure) is in the message.
PLEASE_WAIT = re.compile(r"Sécurité : patienter (\d+)s")
# SACoche's answers to a login whose account or password is wrong (the account unknown, the
# password wrong, the account disabled): a verdict on the credentials, not a passing fault.
RETRY_NOTICE = re.compile(r"\s*Nouvelle tentative autorisée dans \d+\s*s\.?")
CREDENTIALS_REFUSED = re.compile(r"Nom d'utilisateur incorrect|Mot de passe incorrect|compte .*d[ée]sactiv[ée]")
# SACoche refuses a login sent less than this after its login page was shown (anti brute
# force), and a refusal starts the wait again.
LOGIN_DELAY_S = 2


@dataclass
class EntImportReport:
    """SACoche's three tables after an ENT identifier import, as rows of cells."""
    set_rows: list[list[str]]          # ids given to users
    refused_rows: list[list[str]]      # lines SACoche refused, the reason in the last cell
    same_rows: list[list[str]]         # "identifiant d'ENT identique"


@dataclass
class AjaxFeedback:
    css_class: str   # valide | alerte | erreur
    text: str

    @property
    def ok(self) -> bool:
        return "valide" in self.css_class.split()


def _is_post_to(page_name: str):
    def match(request) -> bool:
        return (request.method == "POST"
                and "ajax.php" in request.url
                and parse_qs(urlsplit(request.url).query).get("page") == [page_name])
    return match


@contextmanager
def ajax_call_to(page: Page, page_name: str):
    """The action inside sends SACoche's AJAX call to `page_name`: wait until it is answered or
    has failed (a server gone, a cut answer: the page then shows its own "Échec" message, which
    the caller reads), rather than waiting out a timeout for an answer that will not come."""
    with page.expect_request(_is_post_to(page_name)) as request_info:
        yield
    request_info.value.response()   # None when the call failed


# True once the label's class has left `loader` (SACoche's answer is in).
# Then its class and text (null until then), read in the same round trip.
ANSWERED = """css => { const label = document.querySelector(css);
                       if (!label || /\\bloader\\b/.test(label.className)) return null;
                       return [label.className, label.innerText.trim()]; }"""


def settled_feedback(page: Page, css: str) -> AjaxFeedback:
    """SACoche shows AJAX results in a label whose class leaves `loader` once the answer is in.
    Checked at every animation frame: an `expect` polls at 100, 250, 500 ms…, and each answer
    would then wait that long for nothing (most of a wizard step's time, measured). The label is
    read as the wait ends: after an answer of thousands of rows, each separate read of the page
    took a fifth of a second."""
    css_class, text = page.wait_for_function(ANSWERED, arg=css).json_value()
    return AjaxFeedback(css_class or "", text)


# Landmarks ------------------------------------------------------------------------------------
SITE_NAME = "SACoche"
SITE_KEY = "sacoche"   # its key in the configuration (sites.sacoche, accounts.sacoche)
# « Version installée <em>AAAA-MM-JJ</em>. » on the public page, next to the label the page
# fills by AJAX with the latest release.
VERSION_CSS = "li:has(> label#ajax_version) em"


def endpoint(page_name: str, prefix: bool = False) -> Landmark:
    """The AJAX endpoint a page posts to: SACoche's pages post to `ajax.php?page=` + their
    global `PAGE` (a section may lengthen it: `prefix`)."""
    test = f"String(window.PAGE).startsWith({json.dumps(page_name)})" if prefix else f"window.PAGE === {json.dumps(page_name)}"
    return Landmark(f"appel AJAX ajax.php?page={page_name}{'…' if prefix else ''}", script=test)


LOGIN_PAGE = PageLandmarks(SITE_NAME, "Accueil (formulaire de connexion)", (
    css("#f_login"), css("#f_password"), css("#f_submit"), css("#form_auth"), endpoint("public_accueil")))
HEADER = css("#deconnecter", "lien de déconnexion #deconnecter (en-tête des pages identifiées)")


class SacocheSite:
    """The SACoche of one school: login, navigation, and the identified layout."""

    def __init__(self, page: Page, base_url: str, base: str, early_form: "EarlyLoginForm | None" = None,
                 page_timeout_ms: int = 30000):
        self.page = page
        self.base_url = base_url
        self.base = base
        self.early_form = early_form
        self.page_timeout_ms = page_timeout_ms   # for pages the bot asks for without showing them
        self._version: str | None = None
        self.form_shown_at: float | None = None   # when open_login_form showed it (time.monotonic())

    @property
    def version(self) -> str | None:
        """The release the public page showed (None before it was opened in this run)."""
        return self._version or (self.early_form.version if self.early_form else None)

    def _saw_version(self, version: str | None) -> None:
        if version:
            self._version = version
            if self.early_form is not None:
                self.early_form.version = version

    def url(self, query: str) -> str:
        return f"{self.base_url}index.php?{query}"

    # Identified layout -----------------------------------------------------------------
    @property
    def logout_link(self):
        return self.page.locator("#deconnecter")

    def is_identified(self) -> bool:
        return self.logout_link.count() > 0

    def shows_identified_page(self) -> bool:
        """The page is one of this SACoche's, with the identified layout (a session open)."""
        return self.page.url.startswith(self.base_url) and self.is_identified()

    def open_admin_page(self, page_name: str, login: str, password: Secret) -> None:
        """Open `index.php?page=…`, logging in first if the session is absent or lost."""
        self._goto(page_name)
        if self.is_identified():
            return
        self.log_in(login, password)
        self._goto(page_name)
        if not self.is_identified():
            raise FlowFailed(f"SACoche, page {page_name} : la session ouverte à l'instant n'est pas reconnue "
                             "(retour au formulaire de connexion)", transient=True)

    def _goto(self, page_name: str) -> None:
        answer = self.page.goto(self.url(f"page={page_name}"))
        if answer is not None and answer.status >= 500:
            raise FlowFailed(f"SACoche, page {page_name} : erreur du serveur (HTTP {answer.status})", transient=True)
        try:
            # Either the identified layout or the login form (a lost session): neither means
            # the page is not what the bot knows.
            self.page.locator("#deconnecter, #form_auth").first.wait_for(state="attached", timeout=ARRIVAL_TIMEOUT_MS)
        except PlaywrightError:
            raise SiteChanged(SITE_NAME, f"en-tête des pages identifiées (page={page_name})",
                              [HEADER.what, "ni formulaire de connexion #form_auth"], self.version) from None

    # Login -----------------------------------------------------------------------------
    def log_in(self, login: str, password: Secret) -> None:
        # The password is typed in a private context (never traced nor filmed); the session
        # cookie then carries over to this page's context. A form opened early (EarlyLoginForm)
        # has already waited out SACoche's delay.
        shown_at = self.early_form.shown_at if self.early_form else None
        early = self.early_form.take() if self.early_form else None
        if early is not None:
            try:
                SacocheSite(early.page, self.base_url, self.base)._submit_login(login, password, shown_at)
                early.hand_over()
                return
            except (FlowFailed, PlaywrightError):
                # The early form went stale (its session, the page): a fresh one below. A refused
                # password (LoginRefused, no FlowFailed) goes up: a fresh form would be refused too.
                pass
            finally:
                early.close()
        private = PrivatePage(self.page)
        try:
            here = SacocheSite(private.page, self.base_url, self.base)
            try:
                here.open_login_form()
            finally:
                self._saw_version(here.version)
            here._submit_login(login, password, here.form_shown_at)
            private.hand_over()
        finally:
            private.close()

    def open_login_form(self) -> None:
        """The public page with its login form (SACoche's delay runs from now on)."""
        # `mode=normal` shows the SACoche form even once the school uses an ENT (the ENT radio
        # would otherwise be pre-checked and the password fields hidden).
        self.page.goto(self.url(f"base={self.base}&mode=normal"))
        self.form_shown_at = time.monotonic()   # SACoche's delay started when it served the page
        version = self.page.locator(VERSION_CSS)
        self._saw_version(version.first.inner_text().strip() if version.count() else None)
        # The form itself arrives by AJAX after the page (the first landmark is waited for).
        require_landmarks(self.page, LOGIN_PAGE, self.version)

    def read_login_page(self) -> list[LandmarkReading]:
        """check-site: the public page's landmarks and its version, without logging in."""
        self.page.goto(self.url(f"base={self.base}&mode=normal"))
        version = self.page.locator(VERSION_CSS)
        self._saw_version(version.first.inner_text().strip() if version.count() else None)
        return read_landmarks(self.page, LOGIN_PAGE)

    def _submit_login(self, login: str, password: Secret, shown_at: float | None) -> None:
        """`shown_at`: when the form's page was shown (time.monotonic()), if known."""
        normal_mode = self.page.locator("#f_mode_normal")
        if normal_mode.count() and not normal_mode.is_checked():
            normal_mode.check()
        self.page.locator("#f_login").fill(login)
        self.page.locator("#f_password").fill(password.reveal())
        try:
            if shown_at is not None:
                # What is left of SACoche's delay is waited out (as the retry of a site that
                # said when), rather than learnt from a refusal that would start it again.
                with_retries(lambda: _not_before(shown_at + LOGIN_DELAY_S), attempts=2)
            # Re-submit the same form: reloading the page would restart SACoche's delay.
            with_retries(lambda: self._submit_credentials(login), attempts=3)
        except RetryAfter as refusal:
            raise FlowFailed(f"SACoche refuse encore la connexion après 3 essais : {refusal.reason}") from None
        expect(self.logout_link).to_be_visible()

    def _submit_credentials(self, login: str) -> None:
        with ajax_call_to(self.page, "public_accueil"):
            self.page.locator("#f_submit").click()
        # On success the page leaves at once for the identified home (the answer's body is then
        # gone), on failure the message lands in #ajax_msg: wait for whichever comes.
        self.page.locator("#deconnecter, #ajax_msg.alerte, #ajax_msg.erreur").first.wait_for()
        if self.is_identified():
            return
        message = self.page.locator("#ajax_msg").inner_text().strip()
        delay = PLEASE_WAIT.search(message)
        if delay:
            # Submitted less than the anti brute-force delay after the form's display: the site
            # states how long to wait, and there is no page state to wait for instead.
            raise RetryAfter(int(delay.group(1)), message)
        # SACoche adds to a refusal when the next try is allowed (« Nouvelle tentative autorisée
        # dans 2s. »): not what a person needs to read about a wrong password.
        message = RETRY_NOTICE.sub("", message).strip()
        if CREDENTIALS_REFUSED.search(message):
            # A wrong password, an unknown or disabled account: the same login would be refused again.
            raise LoginRefused(SITE_KEY, SITE_NAME, login, message, where=f"base {self.base}")
        # Anything else (a session lost between the form and its answer…) is no verdict on the
        # password: a new form, a new session, may well pass.
        raise FlowFailed(f"Connexion administrateur SACoche impossible (base {self.base}, compte {login}) : "
                         f"« {site_words(message)} »", transient=is_transient(message))


def _not_before(deadline: float) -> None:
    left = deadline - time.monotonic()
    if left > 0:
        raise RetryAfter(left, f"SACoche n'accepte une connexion que {LOGIN_DELAY_S} s après l'affichage de son formulaire")


class EarlyLoginForm:
    """SACoche refuses a login sent less than 2 s after its form was shown (anti brute force;
    too early, and the wait starts again). So the form is opened, in a private page, before the
    run's first step: the wait passes while the bot works on the ENT, and the first login fills
    it in. Opening it writes nothing."""

    def __init__(self):
        self._private: PrivatePage | None = None
        self._opened = False
        self.version: str | None = None   # the release its page showed
        self.shown_at: float | None = None   # when its page was shown (time.monotonic())

    def open(self, site: SacocheSite) -> None:
        """Open the form, once per run: a login after that (a lost session) opens its own."""
        if not self._opened:
            self._opened = True
            private = PrivatePage(site.page)
            try:
                here = SacocheSite(private.page, site.base_url, site.base)
                try:
                    here.open_login_form()
                finally:
                    site._saw_version(here.version)
            except BaseException:
                private.close()
                raise
            self._private, self.shown_at = private, here.form_shown_at

    def take(self) -> PrivatePage | None:
        private, self._private = self._private, None
        return private

    @property
    def page(self) -> Page | None:
        """The public page with its form, while it waits for the first login."""
        return self._private.page if self._private is not None else None


class AdminPage:
    """An administrator page of one school's SACoche: `PAGE` is its `index.php?page=` name,
    `TITLE` the page's name as SACoche's menu gives it, `LANDMARKS` what the bot relies on."""

    PAGE = ""
    TITLE = ""
    LANDMARKS: tuple[Landmark, ...] = ()

    def __init__(self, site: SacocheSite):
        self.site = site
        self.page = site.page

    def landmarks(self) -> PageLandmarks:
        return PageLandmarks(SITE_NAME, self.TITLE, (*self.LANDMARKS, HEADER, endpoint(self.PAGE)))

    def require_landmarks(self, *extra: Landmark) -> None:
        """Before acting on the page: every landmark there (and `extra`, what the page shows only
        in some states), or SiteChanged naming those missing."""
        expected = self.landmarks()
        if extra:
            expected = PageLandmarks(expected.site, expected.page, (*expected.landmarks, *extra))
        require_landmarks(self.page, expected, self.site.version)

    def is_open(self) -> bool:
        """This page is on screen, identified (a flow that stayed on it need not reload it)."""
        query = parse_qs(urlsplit(self.page.url).query)
        return query.get("page") == [self.PAGE] and self.site.shows_identified_page()


class ConnexionPage(AdminPage):
    """`administrateur_etabl_connexion` — Mode d'identification / Connecteur ENT."""

    PAGE = "administrateur_etabl_connexion"
    TITLE = "Mode d'identification / Connecteur ENT"
    LANDMARKS = (css("#connexion_mode_nom"), css("#bouton_valider_mode"), css("#ajax_msg_mode"))

    def __init__(self, site: SacocheSite):
        super().__init__(site)
        self.mode_select = self.page.locator("#connexion_mode_nom")
        self.submit = self.page.locator("#bouton_valider_mode")
        self.feedback_css = "#ajax_msg_mode"
        self.feedback = self.page.locator(self.feedback_css)

    def open(self, login: str, password: Secret) -> None:
        self.site.open_admin_page(self.PAGE, login, password)
        self.require_landmarks()

    def current_mode(self) -> str:
        return self.mode_select.input_value()

    def has_option(self, value: str) -> bool:
        return self.mode_select.locator(f"option[value='{value}']").count() == 1

    def choose_mode(self, value: str) -> None:
        self.mode_select.select_option(value)
        # The page answers every change with a reminder that nothing is saved yet.
        expect(self.feedback).to_have_text(re.compile("Penser à valider"))

    def fill_cas_server(self, subdomain: str | None, port: int | None, host: str | None, root: str,
                        manual: bool) -> list[str]:
        """Type what the chosen connector leaves open (the page shows those fields only):
        a subdomain, a port, or for the manual `perso` connector the whole server. Returns
        what was typed, for the report."""
        typed = []
        if manual:
            for selector, value in (("#cas_serveur_host", host), ("#cas_serveur_port", port), ("#cas_serveur_root", root)):
                if value not in (None, ""):
                    self.page.locator(selector).fill(str(value))
                    typed.append(f"{selector[1:]} = {value}")
            return typed
        if self.page.locator("#cas_domaine").is_visible() and subdomain:
            self.page.locator("#serveur_host_subdomain").fill(subdomain)
            typed.append(f"sous-domaine = {subdomain}")
        if self.page.locator("#cas_port").is_visible() and port:
            self.page.locator("#serveur_port").fill(str(port))
            typed.append(f"port = {port}")
        return typed

    def option_label(self, value: str) -> str:
        """The text SACoche shows for an option of the identification mode (its label, not the value)."""
        option = self.mode_select.locator(f"option[value='{value}']")
        return option.inner_text().strip() if option.count() == 1 else value

    def save(self) -> AjaxFeedback:
        with ajax_call_to(self.page, self.PAGE):
            self.submit.click()
        return settled_feedback(self.page, self.feedback_css)

    def sso_address(self) -> str:
        """The SSO address the page prints for the school (shown for ENT connectors)."""
        item = self.page.locator("#lien_direct li")
        return item.first.inner_text().strip() if item.count() else ""


# "Niveaux" --------------------------------------------------------------------------------------
class LevelsPage(AdminPage):
    """`administrateur_etabl_niveau`: the official levels the school has chosen (one row each in
    #zone_partage), and the search by family whose results each have an add control."""

    PAGE = "administrateur_etabl_niveau"
    TITLE = "Niveaux"
    LANDMARKS = (css("#zone_partage table"), css("#zone_partage thead q.ajouter", "bouton d'ajout (#zone_partage q.ajouter)"),
                 css("#zone_ajout_form"), css("select#f_famille"), css("#f_recherche_resultat"),
                 css("#ajax_msg_recherche"))

    def __init__(self, site: SacocheSite):
        super().__init__(site)
        self.search_form = self.page.locator("#zone_ajout_form")
        self.family = self.page.locator("select#f_famille")
        self.results = self.page.locator("ul#f_recherche_resultat")
        self.feedback_css = "#ajax_msg_recherche"
        self.feedback = self.page.locator(self.feedback_css)

    def open(self, login: str, password: Secret) -> None:
        self.site.open_admin_page(self.PAGE, login, password)
        self.require_landmarks()

    def chosen(self) -> dict[int, tuple[str, str]]:
        """Level id → (reference, name) of every official level the school has chosen."""
        rows = self.page.locator("#zone_partage tbody tr[id^=id_]").evaluate_all(
            "rows => rows.map(r => [r.id.substring(3), r.cells[0].innerText.trim(), r.cells[1].innerText.trim()])")
        return {int(level_id): (ref, name) for level_id, ref, name in rows if level_id.isdigit()}

    def add(self, level_id: int, family: int) -> bool:
        """Choose one official level; False when SACoche already lists it as chosen."""
        if not self.search_form.is_visible():
            self.page.locator("#zone_partage thead q.ajouter").click()
            expect(self.family).to_be_visible()
        if self.family.input_value() != str(family):
            with ajax_call_to(self.page, self.PAGE):
                self.family.select_option(str(family))
            found = settled_feedback(self.page, self.feedback_css)
            if "alerte" in found.css_class.split():
                raise FlowFailed(f"SACoche n'a pas listé les niveaux de la famille {family} : {found.text}",
                                 transient=is_transient(found.text))
        control = self.results.locator(f"q#add_{level_id}")
        if control.count() == 0:
            raise FlowFailed(f"SACoche ne propose pas le niveau n°{level_id} dans la famille {family} : "
                             "niveau à choisir à la main (menu Niveaux).")
        if "ajouter_non" in (control.get_attribute("class") or "").split():
            return False
        with ajax_call_to(self.page, self.PAGE):
            control.click()
        answer = settled_feedback(self.page, self.feedback_css)
        if not answer.ok:
            raise FlowFailed(f"SACoche a refusé le niveau n°{level_id} : {answer.text}", transient=is_transient(answer.text))
        return True


# "Importer des fichiers d'utilisateurs" ----------------------------------------------------------
# The wizard's state once an answer is in (the feedback label has left `loader`): SACoche's
# refusal, or the first visible control with the report lines of the step (null until then:
# wait_for_function polls at each animation frame).
SETTLED_STEP = """([feedback, controls]) => {
    const label = document.querySelector(feedback);
    if (!label || /\\bloader\\b/.test(label.className)) return null;   // the answer is not in yet
    const problem = document.querySelector('#form_bilan #ajax_msg.alerte, #form_bilan #ajax_msg.erreur');
    if (problem) return {problem: problem.innerText.trim()};
    const control = document.querySelector(controls);
    if (!control) return null;
    const box = control.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(control).visibility === 'hidden') return null;
    const lines = Array.from(document.querySelectorAll(
        '#form_bilan fieldset label.valide, #form_bilan fieldset label.alerte'))
        .map(label => label.innerText.trim()).filter(text => text);
    return {id: control.id, href: control.getAttribute('href'), lines: lines};
}"""
WIZARD_CONTROLS = ("#form_bilan a#passer_etape_suivante, #form_bilan a#envoyer_infos_regroupements, "
                   "#form_bilan a#envoyer_infos_utilisateurs, #form_bilan a.step53, #form_bilan a#retourner_depart")
IMPORT_DONE = "Fichiers temporaires effacés, procédure d'import terminée !"


@dataclass
class WizardStep:
    control: str      # passer_etape_suivante | envoyer_infos_regroupements | envoyer_infos_utilisateurs | step53 | retourner_depart
    target: int       # the step the control leads to (0 when its href is "#")
    lines: list[str]  # the step's report lines (labels), as SACoche printed them


class ImportWizardPage(AdminPage):
    """`administrateur_fichier_user`: category, mode, upload, then one control per step."""

    PAGE = "administrateur_fichier_user"
    TITLE = "Importer des fichiers d'utilisateurs"
    LANDMARKS = (css("#f_choix_principal"),
                 *(css(f"#f_choix_principal option[value^='{stem}_']", f"choix « {stem}_… » de #f_choix_principal")
                   for stem in ("siecle_professeurs_directeurs", "siecle_eleves", "siecle_parents")),
                 # Each category's upload button shows only when the school has its UAI: checked
                 # before the upload (without a UAI the step refuses first, naming the cause).
                 css("#f_mode_complet"), css("#f_mode_partiel"), css("#form_choix"), css("#form_bilan"))

    def __init__(self, site: SacocheSite):
        super().__init__(site)
        self.category_select = self.page.locator("#f_choix_principal")
        self.feedback_css = "#form_bilan #ajax_msg"
        self.feedback = self.page.locator(self.feedback_css)

    def open(self, category: str, login: str, password: Secret) -> None:
        # The deep link pre-selects the category, as the page's own links do.
        self.site.open_admin_page(f"{self.PAGE}&categorie={category}", login, password)
        self.require_landmarks()

    def warnings(self) -> list[str]:
        """The notices SACoche prints at the top of the page, before any upload (no class level
        chosen, previous school year not archived…)."""
        return [" ".join(text.split()) for text in self.page.locator(
            "#form_choix > p.danger, #form_choix > p.probleme").all_inner_texts() if text.strip()]

    def category_value(self, stem: str) -> str:
        """The printed option value for a SIECLE category: `<stem>_oui`, or `_non` without UAI."""
        values = self.category_select.locator("option").evaluate_all("options => options.map(o => o.value)")
        for suffix in ("_oui", "_non"):
            if stem + suffix in values:
                return stem + suffix
        return ""

    def choose(self, category: str) -> None:
        if self.category_select.input_value() != category:
            self.category_select.select_option(category)
        expect(self.page.locator(f"#fieldset_{category}")).to_be_visible()

    def proposed_mode(self) -> str:
        return "complet" if self.page.locator("#f_mode_complet").is_checked() else "partiel"

    def set_mode(self, mode: str) -> None:
        self.page.locator(f"#f_mode_{mode}").check()

    def upload(self, button_id: str, path) -> WizardStep:
        self.require_landmarks(css(f"button#{button_id}"))
        # The real input is hidden and the button records the display mode: go through the
        # button and the browser's file chooser, never set the file on #f_import directly.
        with self.page.expect_file_chooser() as chooser_info:
            self.page.locator(f"button#{button_id}").click()
        with ajax_call_to(self.page, self.PAGE):
            chooser_info.value.set_files(str(path))
        return self.settle()

    def settle(self) -> WizardStep:
        """Wait until the last action is answered: a new control, or a message. The step's
        control, target and report lines are read in one go: a step of 2,000 students is a big
        page, and each separate read of it is a round trip through its whole DOM."""
        state = self.page.wait_for_function(SETTLED_STEP, arg=[self.feedback_css, WIZARD_CONTROLS]).json_value()
        if "problem" in state:
            raise WizardRefusal(state["problem"])
        href = state["href"] or "#"
        target = int(href[5:]) if href.startswith("#step") else 0
        return WizardStep(state["id"] or "step53", target, state["lines"])

    def control(self, step: WizardStep):
        return self.page.locator({"step53": "#form_bilan a.step53"}.get(step.control, f"#form_bilan a#{step.control}"))

    def go_on(self, step: WizardStep) -> WizardStep:
        self.control(step).click()
        return self.settle()

    # Step 31/41 -------------------------------------------------------------------------------
    def new_rows_without_level(self) -> list[str]:
        """References of ticked new classes/groups whose level SACoche could not guess."""
        return self.page.evaluate("""() => Array.from(document.querySelectorAll('#form_bilan input[id^=add_]'))
            .filter(box => box.type === 'checkbox' && box.checked)
            .map(box => box.id.substring(4))
            .filter(key => { const s = document.getElementById('add_niv_' + key); return s && !s.value; })
            .map(key => document.getElementById('add_ref_' + key).value)""")

    def give_first_level(self, reference: str) -> str:
        key = self._key_of(reference)
        level = self.page.locator(f"#add_niv_{key}")
        first = level.locator("option:not([value=''])").first
        if first.count() == 0:
            raise FlowFailed("SACoche ne propose aucun niveau de classe : choisissez d'abord les niveaux "
                             "de l'établissement (menu Niveaux).")
        label = first.inner_text().strip()
        level.select_option(first.get_attribute("value"))
        return label

    def level_options(self, reference: str) -> dict[str, str]:
        """The levels step 31/41 offers for a new class or group: value → name."""
        return dict(self.page.locator(f"#add_niv_{self._key_of(reference)} option:not([value=''])").evaluate_all(
            "options => options.map(o => [o.value, o.textContent.trim()])"))

    def give_level(self, reference: str, value: str) -> None:
        self.page.locator(f"#add_niv_{self._key_of(reference)}").select_option(value)

    def untick_new(self, reference: str) -> None:
        self.page.locator(f"#add_{self._key_of(reference)}").uncheck()

    def _key_of(self, reference: str) -> str:
        return self.page.evaluate("""ref => Array.from(document.querySelectorAll('#form_bilan input[id^=add_ref_]'))
            .find(input => input.value === ref).id.substring(8)""", reference)

    def proposed_deletions(self) -> list[str]:
        return [t.strip() for t in self.page.locator("#form_bilan input[id^=del_]").evaluate_all(
            "boxes => boxes.map(b => b.closest('tr').innerText)")]

    def tick_all(self, prefixes: tuple[str, ...], counting: tuple[str, ...] = ()) -> tuple[int, dict[str, int]]:
        """Tick every checkbox of the step whose id starts with one of `prefixes`; returns how
        many were not ticked by SACoche itself, and how many boxes the step has for each prefix
        of `counting` (read in the same round trip: a step of 2,000 students is a big page)."""
        answer = self.page.evaluate("""([prefixes, counting]) => {
            let changed = 0;
            const boxes = Array.from(document.querySelectorAll('#form_bilan input[type=checkbox]'));
            boxes.forEach(box => {
                if (prefixes.some(p => box.id.startsWith(p)) && !box.checked) { box.checked = true; changed++; }
            });
            const counts = {};
            counting.forEach(p => { counts[p] = boxes.filter(box => box.id.startsWith(p)).length; });
            return [changed, counts]; }""", [list(prefixes), list(counting)])
        return answer[0], answer[1]

    # Step 53 ----------------------------------------------------------------------------------
    def download_credentials(self, folder, on_retry=None) -> list:
        """Save the CSV (and PDF) of new logins offered at step 53; returns the saved paths.
        The accounts already exist by then and the wizard cannot show these passwords again, so
        a broken download is retried here (a GET of a file kept on the server: safe to repeat),
        never by restarting the wizard. Raises DownloadBroken when it keeps failing, or at once
        when SACoche shows a page instead of the file (session lost, file gone)."""
        saved = []
        csv_link = self.page.locator("#form_bilan a[href*='force_download.php']")
        saved.append(retry_with_backoff(lambda: download_by_clicking(csv_link, folder, "identifiants.csv"),
                                        attempts=3, retry_on=(DownloadBroken,), on_wait=on_retry))
        pdf_link = self.page.locator("#form_bilan a[href*='login-mdp/']")
        if pdf_link.count():
            answer = self.page.request.get(pdf_link.get_attribute("href"))
            if answer.ok:
                # Named by SACoche's link: one plain name, written by the bot, never through a link.
                pdf_path = folder / safe_name(pdf_link.get_attribute("href").rsplit("/", 1)[-1], "identifiants.pdf")
                saved.append(write_file(pdf_path, answer.body(), private=True))
        return saved


class WizardRefusal(Exception):
    """SACoche's own message in #ajax_msg (class alerte / erreur) during the wizard."""


# User-management pages -----------------------------------------------------------------------------
# The filter forms of the students' and parents' lists, as their pages post them for "every one".
LIST_FORMS = {"administrateur_eleve": {"f_groupes": "d2"},   # "Tout l'établissement"
              "administrateur_parent": {"f_debut_nom": "", "f_debut_prenom": "", "f_afficher": "1", "f_statut": "1"}}
# The same forms for former accounts ("Anciens élèves", statut 0).
FORMER_LIST_FORMS = {"administrateur_eleve": {"f_groupes": "d3"},
                     "administrateur_parent": {**LIST_FORMS["administrateur_parent"], "f_statut": "0"},
                     "administrateur_professeur": {"f_statut": "0"}}
ROWS_OF_TABLE = """table => {
    const titles = Array.from(table.querySelectorAll('thead th')).map(th => th.textContent.trim());
    return Array.from(table.querySelectorAll('tbody tr[id^=id_]')).map(tr => {
        const row = {id: tr.id.substring(3)};
        Array.from(tr.children).forEach((td, i) => {
            if (titles[i]) row[titles[i]] = td.textContent.replace(/\\s+/g, ' ').trim(); });
        return row; }); }"""


# The rows of a list page's table, as ROWS_OF_TABLE reads a rendered one (null: no table).
TABLE_ROWS = """doc => { const table = doc.querySelector('table#table_action');
                        return table ? (ROWS_OF_TABLE)(table) : null; }""".replace("ROWS_OF_TABLE", ROWS_OF_TABLE)
LOGGED_IN = HEADER.css   # the identified layout: what an answer without a session lacks


# Each user list, its title in SACoche's menu and the filter controls the bot uses.
USER_LISTS = {
    "administrateur_eleve": ("Élèves", (css("#f_groupes option[value='d2']", "choix « Tout l'établissement » (d2) de #f_groupes"),
                                        css("#f_groupes option[value='d3']", "choix « Anciens élèves » (d3) de #f_groupes"))),
    "administrateur_parent": ("Parents", (css("#f_statut"), css("#f_debut_nom"), css("#actualiser"))),
    "administrateur_professeur": ("Professeurs / Personnels", (css("#f_statut"),)),
}


def user_list_landmarks(page_name: str) -> PageLandmarks:
    """The students' and parents' lists show their table once filtered (waited for then); the
    staff's shows it at once."""
    title, own = USER_LISTS.get(page_name, (page_name, ()))
    table = (css("table#table_action"),) if page_name == "administrateur_professeur" else ()
    return PageLandmarks(SITE_NAME, f"{title} (gestion)", (*own, *table, HEADER, endpoint(page_name, prefix=True)))


class UserListPage(AdminPage):
    """Élèves / Parents / Professeurs: the rows of `table#table_action` as dicts by column title."""

    def __init__(self, site: SacocheSite):
        super().__init__(site)

    def rows(self, page_name: str, login: str, password: Secret, former: bool = False) -> list[dict]:
        """Every row of one list, of current accounts (or of former ones)."""
        return self.read_lists([(page_name, former)], login, password)[page_name, former]

    def read_lists(self, wanted: list[tuple[str, bool]], login: str, password: Secret) -> dict[tuple[str, bool], list[dict]]:
        """The rows of each (list page, former) wanted, read in one go. From the SACoche page on
        screen, if one is (identified); otherwise the first list's page is opened as a person
        would (logging in if the session is gone) and its landmarks checked. Then the page asks
        SACoche for every list at once, as the lists' own filter forms do
        ("Tout l'établissement", "Anciens élèves", "Actualiser" with no filter; the staff's current
        list is its page as it comes), and reads the answers without laying out their thousands
        of rows. The forms need no CSRF token (the pages say so in their source). Each answer is
        checked for its list's landmarks."""
        if not self.site.shows_identified_page():
            first = wanted[0][0]
            self.site.open_admin_page(f"{first}&section=gestion", login, password)
            require_landmarks(self.page, user_list_landmarks(first), self.site.version)
        requests = [PageToFetch(self.site.url(f"page={page_name}&section=gestion"), user_list_landmarks(page_name),
                                (FORMER_LIST_FORMS if former else LIST_FORMS).get(page_name))
                    for page_name, former in wanted]
        try:
            answers = read_fetched_pages(self.page, requests, probes=(LOGGED_IN,), extract=TABLE_ROWS,
                                         timeout_ms=self.site.page_timeout_ms)
        except PlaywrightError as exc:   # the page went away meanwhile (the session's own logout)
            raise FlowFailed(f"SACoche, listes {', '.join(page for page, _ in wanted)} : lecture interrompue "
                             f"({str(exc).splitlines()[0]})", transient=True) from None
        lists = {}
        for (page_name, former), answer in zip(wanted, answers):
            if answer.status >= 500 or not answer.probes[LOGGED_IN]:   # a server error, or the session lost
                raise FlowFailed(f"SACoche, liste {page_name} : réponse inattendue au formulaire de la page "
                                 f"(HTTP {answer.status})", transient=True)
            missing = [reading.landmark for reading in answer.readings if not reading.present]
            if missing or answer.extracted is None:
                raise SiteChanged.lacking(SITE_NAME, user_list_landmarks(page_name).page,
                                          missing or [css("table#table_action")], self.site.version)
            lists[page_name, former] = answer.extracted
        return lists


@dataclass
class EditAnswer:
    ok: bool
    message: str


class UserEditDialog(AdminPage):
    """The "Modifier un utilisateur" dialog of the three user lists: the admin's own way to set
    one account's Id. ENT. The dialog copies every cell of the row and Valider posts them all
    back, so driving it leaves the account's other fields as they were."""

    def __init__(self, site: SacocheSite):
        super().__init__(site)
        self.dialog = self.page.locator("#form_gestion")
        self.shown: tuple[str, bool, str] | None = None   # (list page, former, surname filter)

    def show_rows(self, list_page: str, former: bool, surname: str, login: str, password: Secret) -> None:
        """Show the list that holds the account: students of the whole school (or former ones),
        parents whose surname starts like it, staff current or former."""
        wanted = (list_page, former, surname if list_page == "administrateur_parent" else "")
        if self.shown == wanted and self.page.url.startswith(self.site.url(f"page={list_page}")):
            return
        self.site.open_admin_page(f"{list_page}&section=gestion", login, password)
        require_landmarks(self.page, user_list_landmarks(list_page), self.site.version)
        if list_page == "administrateur_eleve":
            with self.page.expect_navigation():
                self.page.locator("#f_groupes").select_option("d3" if former else "d2")
        elif list_page == "administrateur_parent":
            self.page.locator("#f_statut").evaluate("(select, value) => { select.value = value; }", "0" if former else "1")
            self.page.locator("#f_debut_nom").fill(surname)
            with self.page.expect_navigation():
                self.page.locator("#actualiser").click()
        elif former:
            with self.page.expect_navigation():
                self.page.locator("#f_statut").select_option("0")
        self.page.locator("table#table_action").wait_for()
        self.shown = wanted

    def set_ent_id(self, list_page: str, user_id: str, ent_id: str) -> EditAnswer:
        row = self.page.locator(f"table#table_action tr#id_{user_id}")
        if not row.count():
            return EditAnswer(False, f"compte n° {user_id} absent de la liste")
        row.locator("q.modifier").click()
        expect(self.dialog).to_be_visible()
        self.page.locator("#f_id_ent").fill(ent_id)
        sent_here = _is_post_to(f"{list_page}_gestion")
        with self.page.expect_response(lambda response: sent_here(response.request)) as answer_info:
            self.page.locator("#bouton_valider").click()
        response = answer_info.value
        try:
            answer = response.json()
        except Exception:   # not JSON: a server error page
            answer = {"statut": False, "value": f"réponse inattendue (HTTP {response.status})"}
        if not answer.get("statut"):
            if self.dialog.is_visible():
                self.page.locator("#bouton_annuler").click()
            return EditAnswer(False, str(answer.get("value", "")))
        column = self.page.locator("table#table_action thead th").evaluate_all(
            "cells => cells.map(c => c.textContent.trim()).indexOf('Id. ENT')")
        expect(row.locator("td").nth(column)).to_have_text(ent_id)
        return EditAnswer(True, "Demande réalisée !")


# phpCAS's page when the ticket could not be validated (no or bad answer from the CAS server):
# unlike "Incident authentification CAS" (unknown ENT id), a new attempt may well succeed.
CAS_VALIDATION_FAILED = "Authentification CAS infructueuse"


class SsoLanding:
    """The SACoche page an ENT user lands on after the CAS round trip."""

    def __init__(self, page: Page):
        self.page = page

    def who_is_logged_in(self) -> dict:
        profile = self.page.locator("#top_info span.top[class*='profil_']")
        error_title = self.page.locator("h1")
        profile.or_(error_title).first.wait_for()
        if profile.count():
            # "Prénom NOM [profil] [fr_FR]": the person, their profile (maybe inside a link to switch
            # profiles) and a language link. Read from the markup, not split on brackets.
            header = profile.first.evaluate("""span => {
                const copy = span.cloneNode(true);
                const language = copy.querySelector("a[href*='compte_langue']");
                const locale = language ? language.textContent.trim().replace(/^\\[|\\]$/g, "") : "";
                if (language) { language.remove(); }
                const text = copy.textContent.replace(/\\s+/g, " ").trim();
                const found = /^(.*?) ?\\[([^\\]]*)\\]$/.exec(text);
                const type = (span.className.match(/\\bprofil_(\\w+)/) || [null, ""])[1];
                return {user: found ? found[1] : text, profile: found ? found[2] : "", locale, type}; }""")
            return {"identified": True, "user": header["user"].strip(), "profile": header["profile"].strip(),
                    "profile_type": header["type"], "language": header["locale"], "url": self.page.url}
        message = self.page.locator("p.danger, div.probleme, body").first.inner_text().strip()
        title = error_title.first.inner_text().strip()
        return {"identified": False, "user": "", "profile": "", "message": f"{title} — {shorten(message, 300)}",
                "url": self.page.url, "passing": title.startswith(CAS_VALIDATION_FAILED)}


# "Importer / Imposer des identifiants" -------------------------------------------------------------
class IdentifierImportPage(AdminPage):
    """`administrateur_fichier_identifiant`, objective « Importer / Imposer les identifiants d'un ENT »."""

    PAGE = "administrateur_fichier_identifiant"
    TITLE = "Importer / Imposer des identifiants"
    LANDMARKS = (css("#f_choix_principal"),
                 css("#f_choix_principal option[value^='import_id_ent_']", "choix « import_id_ent_… » de #f_choix_principal"),
                 # The objective's fieldset: with its upload button once an ENT connector is saved.
                 css("[id^='fieldset_import_id_ent_']", "cadre « fieldset_import_id_ent_… » de l'objectif"),
                 css("#ajax_msg"), css("#ajax_retour"))

    def __init__(self, site: SacocheSite):
        super().__init__(site)
        self.objective = self.page.locator("#f_choix_principal")
        self.feedback_css = "#ajax_msg"
        self.feedback = self.page.locator(self.feedback_css)

    def open(self, login: str, password: Secret) -> None:
        self.site.open_admin_page(self.PAGE, login, password)
        self.require_landmarks()

    def ent_option(self) -> str:
        """`import_id_ent_<mode>`: `_normal` means the ENT connector is not saved yet."""
        values = self.objective.locator("option").evaluate_all("options => options.map(o => o.value)")
        return next((v for v in values if v.startswith("import_id_ent_")), "")

    def import_file(self, option: str, path) -> AjaxFeedback:
        self.require_landmarks(css("button#import_ent"))
        self.objective.select_option(option)
        # The button sets the hidden f_action before opening the hidden file input: go through it.
        with self.page.expect_file_chooser() as chooser_info:
            self.page.locator("button#import_ent").click()
        with ajax_call_to(self.page, self.PAGE):
            chooser_info.value.set_files(str(path))
        return settled_feedback(self.page, self.feedback_css)

    def report(self) -> "EntImportReport":
        """The three sections of #ajax_retour: rows minus the header, a lone "Aucun" is none."""
        # One JSON string: thousands of cells checked one by one by Playwright took most of a second.
        sections = json.loads(self.page.locator("#ajax_retour table").evaluate("""table => {
            const sections = Array.from(table.tBodies).map(body => {
                const rows = Array.from(body.rows).slice(1).map(tr => Array.from(tr.cells).map(td => td.innerText.trim()));
                const lone = rows.length === 1 && rows[0].length === 1 && rows[0][0] === 'Aucun';
                return {title: body.rows[0].innerText.trim(), rows: lone ? [] : rows};
            });
            return JSON.stringify(sections.map(section => section.rows)); }"""))
        return EntImportReport(*sections[:3])

    def report_html(self) -> str:
        return self.page.locator("#ajax_retour").inner_html()

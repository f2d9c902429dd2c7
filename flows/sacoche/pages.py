"""Page objects of the real SACoche (2017-09 release): ids, AJAX calls and messages from
../shared/spec/sacoche-admin.md and observed-real-run.md. Flows call actions named after what an
administrator does; no selector lives outside this module."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, Response, expect

from bot.errors import FlowFailed
from bot.retry import RetryAfter, with_retries
from bot.secrets import Secret

# SACoche's anti brute-force answer; the delay (2 s, +1 per failure) is in the message.
PLEASE_WAIT = re.compile(r"Sécurité : patienter (\d+)s")
LOADER = re.compile(r"\bloader\b")


@dataclass
class AjaxFeedback:
    css_class: str   # valide | alerte | erreur
    text: str

    @property
    def ok(self) -> bool:
        return "valide" in self.css_class.split()


def _is_post_to(page_name: str):
    def match(response: Response) -> bool:
        return (response.request.method == "POST"
                and "ajax.php" in response.url
                and parse_qs(urlsplit(response.url).query).get("page") == [page_name])
    return match


def settled_feedback(label) -> AjaxFeedback:
    """SACoche shows AJAX results in a label whose class leaves `loader` once the answer is in."""
    expect(label).not_to_have_class(LOADER)
    return AjaxFeedback(label.get_attribute("class") or "", label.inner_text().strip())


class SacocheSite:
    """The SACoche of one school: login, navigation, and the identified layout."""

    def __init__(self, page: Page, base_url: str, base: str):
        self.page = page
        self.base_url = base_url
        self.base = base

    def url(self, query: str) -> str:
        return f"{self.base_url}index.php?{query}"

    # Identified layout -----------------------------------------------------------------
    @property
    def logout_link(self):
        return self.page.locator("#deconnecter")

    def is_identified(self) -> bool:
        return self.logout_link.count() > 0

    def open_admin_page(self, page_name: str, login: str, password: Secret) -> None:
        """Open `index.php?page=…`, logging in first if the session is absent or lost."""
        self.page.goto(self.url(f"page={page_name}"))
        self.page.locator("#deconnecter, #form_auth").first.wait_for()
        if not self.is_identified():
            self.log_in(login, password)
            self.page.goto(self.url(f"page={page_name}"))
        expect(self.logout_link).to_be_visible()

    # Login -----------------------------------------------------------------------------
    def log_in(self, login: str, password: Secret) -> None:
        # `mode=normal` shows the SACoche form even once the school uses an ENT (the ENT radio
        # would otherwise be pre-checked and the password fields hidden).
        self.page.goto(self.url(f"base={self.base}&mode=normal"))
        submit = self.page.locator("#f_submit")
        submit.wait_for()   # the form itself arrives by AJAX after the page
        normal_mode = self.page.locator("#f_mode_normal")
        if normal_mode.count() and not normal_mode.is_checked():
            normal_mode.check()
        self.page.locator("#f_login").fill(login)
        self.page.locator("#f_password").fill(password.reveal())
        try:
            # Re-submit the same form: reloading the page would restart SACoche's delay.
            with_retries(lambda: self._submit_credentials(login), attempts=3)
        except RetryAfter as refusal:
            raise FlowFailed(f"SACoche refuse encore la connexion après 3 essais : {refusal.reason}") from None
        expect(self.logout_link).to_be_visible()

    def _submit_credentials(self, login: str) -> None:
        with self.page.expect_response(_is_post_to("public_accueil")):
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
        raise FlowFailed(f"Connexion administrateur SACoche refusée (base {self.base}, "
                         f"compte {login}) : {message}")


class ConnexionPage:
    """`administrateur_etabl_connexion` — Mode d'identification / Connecteur ENT."""

    PAGE = "administrateur_etabl_connexion"

    def __init__(self, site: SacocheSite):
        self.site = site
        self.page = site.page
        self.mode_select = self.page.locator("#connexion_mode_nom")
        self.submit = self.page.locator("#bouton_valider_mode")
        self.feedback = self.page.locator("#ajax_msg_mode")

    def open(self, login: str, password: Secret) -> None:
        self.site.open_admin_page(self.PAGE, login, password)
        self.mode_select.wait_for()

    def current_mode(self) -> str:
        return self.mode_select.input_value()

    def has_option(self, value: str) -> bool:
        return self.mode_select.locator(f"option[value='{value}']").count() == 1

    def choose_mode(self, value: str) -> None:
        self.mode_select.select_option(value)
        # The page answers every change with a reminder that nothing is saved yet.
        expect(self.feedback).to_have_text(re.compile("Penser à valider"))

    def save(self) -> AjaxFeedback:
        with self.page.expect_response(_is_post_to(self.PAGE)):
            self.submit.click()
        return settled_feedback(self.feedback)

    def sso_address(self) -> str:
        """The SSO address the page prints for the school (shown for ENT connectors)."""
        item = self.page.locator("#lien_direct li")
        return item.first.inner_text().strip() if item.count() else ""

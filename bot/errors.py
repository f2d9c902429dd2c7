"""Errors that end a run, each with its exit code and a French message for the user."""
from __future__ import annotations


from .status import ExitStatus


class BotError(Exception):
    exit_code = ExitStatus.FLOW_FAILED

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Refused(BotError):
    """Refused before any browser action (bad config, bad input file, missing secret)."""
    exit_code = ExitStatus.REFUSED


class SiteNotReady(BotError):
    """A flow read the site before writing anything and found it cannot go on (a setting the
    site lacks, a choice only a person can make): refused like bad input, nothing written."""
    exit_code = ExitStatus.REFUSED


class FlowFailed(BotError):
    """A flow could not do its work on a site. `transient`: the site may well succeed if the
    flow is simply run again from its start (lost session, server error, network)."""
    exit_code = ExitStatus.FLOW_FAILED

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class VerificationMismatch(BotError):
    """The flow ran, but reading the site back does not show what was expected."""
    exit_code = ExitStatus.MISMATCH


class LoginRefused(BotError):
    """A site refused to let the bot in with the account and the password it was given: a wrong
    password, an unknown or disabled account, ARENA's password or passcode refused at each try.
    Not a changed page and not a passing fault: the same password would be refused again (and
    a site may lock an account after a few refusals), so it is never retried. Like a missing
    password, it is a configuration to correct, found before anything was written on that site:
    refused (exit 2).

    `site`: the config's key (sacoche, ent, arena); `site_name`: how a person names it
    (« SACoche », « l'ENT »); `account`: the login refused; `site_message`: the site's own words;
    `where`: what else identifies the account (« base 123 »); `tries`: the logins refused;
    `checks`: what else a person should check besides the password (ARENA's passcode tool)."""
    exit_code = ExitStatus.REFUSED

    def __init__(self, site: str, site_name: str, account: str, site_message: str, where: str = "",
                 tries: int = 1, checks: str = ""):
        self.site, self.site_name, self.account = site, site_name, account
        # What a site check read before the login (the login page's landmarks, the version it
        # shows): set by the page that checked them, for check-site's table.
        self.readings: list = []
        self.version: str | None = None
        self.version_note = ""
        self.site_message, self.where, self.tries, self.checks = site_words(site_message), where, tries, checks
        told = f" : « {self.site_message} »" if self.site_message else ""
        super().__init__(f"Connexion à {site_name} refusée pour le compte {account}"
                         + (f" ({where})" if where else "") + (f" après {tries} essais" if tries > 1 else "") + told)

    def as_dict(self) -> dict:
        return {"site": self.site, "account": self.account, "message": self.site_message, "tries": self.tries}

    def advice(self, school_id: str, credential: str, login_key: str, password_env: str | None = None) -> str:
        """What a person does about it, in French: `credential` is the keyring entry of the
        refused password (`sacoche`, `sso:<login>`), `login_key` where the account is named in
        the configuration, `password_env` the variable that gives the password, if any."""
        variable = (f" (ou la variable d'environnement {password_env}, qui passe avant le trousseau quand elle est "
                    "définie)" if password_env else "")
        return (f"Rien n'a été écrit sur {self.site_name}. Vérifiez l'identifiant « {self.account} » ({login_key}) et "
                f"le mot de passe enregistré : python -m bot credentials set --school {school_id} --site {credential}"
                f"{variable}{f' ; {self.checks}' if self.checks else ''}, puis relancez la même commande. Relancer "
                "sans rien corriger serait refusé de même.")


def site_words(message: str) -> str:
    """A site's own message, quoted in a sentence of the bot: on one line, without a dangling
    final period (the bot's sentence carries on after it)."""
    text = " ".join(message.split()).rstrip(".").rstrip()
    return text

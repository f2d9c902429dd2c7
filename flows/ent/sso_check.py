"""Guide step "Dans le menu « Bureau », cliquez sur « SACoche ». Vous êtes connecté…": for
real ENT users (configured under schools.N.sso_check), each in a fresh browser, log into the
ENT, click the SACoche tile, and read who SACoche says is logged in. Changes nothing anywhere:
it does not accept SACoche's CNIL page on anyone's behalf."""
from __future__ import annotations

import unicodedata

from bot.errors import FlowFailed, Refused, VerificationMismatch
from schoolfiles.ent_csv import read_ent_csv
from bot.flow import Outcome, RunContext, Status, Work
from bot.secrets import SSO_PREFIX
from bot.text import de

from ..sacoche.pages import SsoLanding   # SACoche's side of the check
from .common import ENT_CSV_FACT, EntFlow, ent_family, ent_labels, ent_site


# ENT profile (accounts export) → SACoche profile types (the header's profil_<type>) that fit it:
# an ENT "Enseignant" may be a principal in SACoche.
PROFILE_TYPES = {"Eleve": {"eleve"}, "Parent": {"parent"}, "Enseignant": {"professeur", "directeur"},
                 "Personnel": {"professeur", "directeur"}, "Direction": {"directeur", "professeur"}}


def normal(text: str) -> list[str]:
    """Words of a name without accents or case, to compare the ENT's spelling with SACoche's."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).upper().split()


class SsoCheck(EntFlow):
    work = Work.CHECKS   # read-only on both sites
    report_labels = {"details": {"results": "Connexions essayées", "login": "Identifiant ENT",
                                 "identified": "Connecté à SACoche", "user": "Personne affichée par SACoche",
                                 "profile": "Profil", "language": "Langue", "url": "Adresse atteinte",
                                 "message": "Message de SACoche",
                                 # SACoche's internal name of the profile, beside « Profil »: for programs.
                                 "profile_type": None,
                                 "connected_users": "utilisateurs connectés par le Bureau de l'ENT"}}
    # Retry-safe: read-only on both sites (the CNIL page is never accepted).
    name = "sso-check"
    title = "Vérification : un utilisateur de l'ENT clique sur « SACoche » et est connecté"
    sites = ()

    def manual_steps(self, ctx: RunContext) -> list[str]:
        return ["Avec un compte ENT d'enseignant, d'élève et de parent : se connecter à l'ENT, cliquer sur « SACoche » "
                "dans le Bureau, et vérifier que SACoche affiche la bonne personne."]

    def inputs(self, ctx: RunContext) -> dict:
        return {"users": [u.login for u in ctx.school.sso_check], "sacoche": ctx.site_url("sacoche"),
                "ent": ctx.site_url("ent")}

    def needed_sites(self, ctx: RunContext) -> tuple[str, ...]:
        # Each checking user's own ENT password (not the administrator's): pre-flight asks for them.
        return tuple(f"{SSO_PREFIX}{user.login}" for user in ctx.school.sso_check) if ent_family(ctx) else ()

    def preflight_on_ent(self, ctx: RunContext) -> None:
        ent_labels(ctx)
        if not ctx.school.sso_check:
            raise Refused(f"Aucun compte ENT de vérification : indiquez sous schools.{ctx.school_id}.sso_check "
                          "un ou plusieurs comptes réels (un enseignant, un élève, un parent) et enregistrez leur "
                          f"mot de passe (python -m bot credentials set --school {ctx.school_id} --site sso:<identifiant>).")

    def run_on_ent(self, ctx: RunContext) -> Outcome:
        results = []
        for user in ctx.school.sso_check:
            ctx.step(f"{user.login} se connecte à l'ENT et clique sur « SACoche » dans le Bureau")
            page = ctx.isolated_page()
            ent = ent_site(ctx, page)
            ent.log_in(user.login, ctx.password(f"{SSO_PREFIX}{user.login}"))
            landed = ent.open_sacoche_from_desktop()
            ctx.show(landed)   # the report shows SACoche's page, not the ENT's
            landing = SsoLanding(landed).who_is_logged_in()
            if not landing["identified"] and ent_site(ctx, landed).shows_login_form():
                raise FlowFailed(f"La session ENT {de(user.login)} a expiré avant le retour vers SACoche "
                                 "(page de connexion de l'ENT au lieu de SACoche).", transient=True)
            if landing.pop("passing", False):
                # SACoche could not validate the ticket with the ENT (server error, no answer):
                # a passing fault, the whole check is run again.
                raise FlowFailed(f"SACoche n'a pas pu valider auprès de l'ENT la connexion {de(user.login)} : "
                                 f"{landing['message']}", transient=True)
            results.append({"login": user.login, **landing})
        ok = sum(1 for r in results if r["identified"])
        return Outcome(Status.UNCHANGED, f"{ok}/{len(results)} utilisateur(s) de l'ENT connecté(s) à SACoche par le Bureau ; "
                             "rien n'a été modifié.", details={"results": results}, data=results)

    def verify_on_ent(self, ctx: RunContext, outcome: Outcome) -> dict:
        results = outcome.data
        accounts = {}
        csv_path = ctx.recall(ENT_CSV_FACT) or ctx.school.files.ent
        if csv_path:
            export = read_ent_csv(csv_path, required_profiles=())
            accounts = {a.ent_id: a for a in export.accounts}
        problems = []
        for result in results:
            account = accounts.get(result["login"])
            if not result["identified"]:
                problems.append(f"{result['login']} : {result['message']}")
            elif account and sorted(normal(f"{account.prenom} {account.nom}")) != sorted(normal(result["user"])):
                problems.append(f"{result['login']} : SACoche a connecté « {result['user']} » et non "
                                f"« {account.prenom} {account.nom} »")
            elif account and account.profile in PROFILE_TYPES and \
                    result.get("profile_type") not in PROFILE_TYPES[account.profile]:
                problems.append(f"{result['login']} : profil « {account.profile} » dans l'ENT mais SACoche l'a connecté "
                                f"comme « {result['profile']} »")
        if problems:
            raise VerificationMismatch("SSO en échec — " + " ; ".join(problems))
        return {"connected_users": [f"{r['login']} → {r['user']} [{r['profile']}]" for r in results]}

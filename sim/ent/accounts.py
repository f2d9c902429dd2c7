"""Administration des comptes: the account search of the school's ENT and its CSV export, in
the layout SACoche's `esup` connector reads (a title line, a header line, then
uid;profil;nom;prenom;classe), ISO-8859-1 by default as the real exports are."""
from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request

from .site import label, portal_page, sim
from .store import PROFILES

CSV_TITLE = "Extraction des comptes ENT"
CSV_COLUMNS = ("uid", "profil", "nom", "prenom", "classe")
CSV_ENCODINGS = ("iso-8859-1", "utf-8-sig", "utf-8")
RESULTS_SHOWN = 100

accounts = Blueprint("accounts", __name__)


def search_args() -> dict[str, str]:
    profile = request.args.get("profil", "")
    return {"profil": profile if profile in PROFILES else "",
            "nom": request.args.get("nom", "").strip(),
            "classe": request.args.get("classe", "").strip()}


@accounts.route("/admin/comptes")
@portal_page(admin=True)
def accounts_page():
    criteria = search_args()
    searched = "rechercher" in request.args
    results = (sim().store.search_accounts(g.account["uai"], criteria["profil"], criteria["nom"], criteria["classe"])
               if searched else [])
    return render_template("accounts.html", title=label("menu.accounts"), admin_open=True,
                           profiles=PROFILES, criteria=criteria, searched=searched,
                           results=results[:RESULTS_SHOWN], total=len(results),
                           export_url="/admin/comptes/extraction?" + urlencode(criteria))


def export_text(rows) -> str:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow([CSV_TITLE])   # a single cell: SACoche's `esup` layout skips 2 header lines
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([row["ent_id"], row["profile"], row["nom"], row["prenom"], row["classe"]])
    return text.getvalue()


@accounts.route("/admin/comptes/extraction")
@portal_page(admin=True)
def accounts_export():
    criteria = search_args()
    rows = sim().store.search_accounts(g.account["uai"], criteria["profil"], criteria["nom"], criteria["classe"],
                                       with_admins=False)
    settings = sim().faults.settings
    encoding = settings.get("csv_encoding", "iso-8859-1")
    # Characters Latin-1 lacks become "?", as the real exports do.
    body = export_text(rows).encode(encoding, errors="replace")
    if "csv_truncate" in settings:
        body = body[:int(settings["csv_truncate"])]
    charset = "utf-8" if encoding.startswith("utf-8") else encoding
    return Response(body, mimetype="text/csv", content_type=f"text/csv; charset={charset}", headers={
        "Content-Disposition": f'attachment; filename="extraction_comptes_{g.account["uai"]}.csv"'})

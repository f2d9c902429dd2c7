"""The simulator's own door for tests, outside the ENT's pages: its state (with the count of
site requests, the fault set and the labels), live label renames and its fault switches."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..faults import RULE_KINDS, FaultError
from . import labels
from .accounts import CSV_ENCODINGS
from .site import sim

simview = Blueprint("simview", __name__)


@simview.route("/_sim/state")
def state():
    ent = sim()
    return jsonify({**ent.store.snapshot(), "requests": ent.requests,
                    "faults": ent.faults.as_dict(), "labels": ent.labels})


@simview.route("/_sim/labels", methods=["GET", "POST"])
def rename_labels():
    if request.method == "POST":
        unknown = labels.rename(sim().labels, request.get_json(force=True) or {})
        if unknown:
            return jsonify({"error": f"clés inconnues : {', '.join(unknown)}"}), 400
    return jsonify(sim().labels)


@simview.route("/_sim/faults", methods=["GET", "POST"])
def faults():
    faults = sim().faults
    if request.method == "POST":
        wanted = request.get_json(force=True) or {}
        if isinstance(wanted, dict) and wanted.get("csv_encoding", "iso-8859-1") not in CSV_ENCODINGS:
            return jsonify({"error": f"encodage inconnu : {wanted['csv_encoding']}"}), 400
        try:
            faults.replace(wanted)
        except FaultError as exc:
            return jsonify({"error": str(exc), "known": {**faults.extra_keys, **dict.fromkeys(RULE_KINDS, "")}}), 400
        if faults.settings.pop("expire_sessions", False):
            sim().store.close_all_sessions()
    return jsonify(faults.as_dict())

"""The simulator's own door for tests, outside SACoche's pages: its state (with the count of site
requests) and its fault switches."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..faults import FaultError
from .site import sim

simview = Blueprint("simview", __name__)


@simview.route("/_sim/state")
def state():
    return jsonify({**sim().store.snapshot(), "requests": sim().requests, "logins": dict(sim().logins)})


@simview.route("/_sim/faults", methods=["GET", "POST"])
def faults():
    if request.method == "POST":
        try:
            sim().faults.replace(request.get_json(force=True) or {})
        except FaultError as exc:
            return jsonify({"error": str(exc)}), 400
    return jsonify(sim().faults.as_dict())

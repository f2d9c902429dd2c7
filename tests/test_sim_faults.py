"""The simulators' fault rules (sim/faults.py), the same on both sites: each kind does what it
says, only on the requests it names and only as many times as it says."""
from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import get_json, post_json


def status_of(url: str) -> int | str:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException) as error:
        return type(getattr(error, "reason", error)).__name__


def test_unknown_faults_and_fields_are_refused(sims):
    for site in (sims.sacoche_url, sims.ent_url):
        for wrong in ({"fire": []}, {"http_500": [{"pag": "x"}]}, {"delay": [3]}):
            request = urllib.request.Request(site + "_sim/faults", data=str(wrong).replace("'", '"').encode(),
                                             method="POST", headers={"Content-Type": "application/json"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 400


def test_http_500_hits_only_the_named_request_and_only_so_many_times(sims):
    post_json(sims.ent_url + "_sim/faults", {"http_500": [{"path": "/appli/agenda", "times": 2}]})
    assert [status_of(sims.ent_url + "appli/agenda") for _ in range(3)] == [500, 500, 200]
    assert status_of(sims.ent_url + "appli/blog") == 200
    hits = get_json(sims.ent_url + "_sim/faults")["hits"]
    assert [hit["path"] for hit in hits] == ["/appli/agenda", "/appli/agenda"]


def test_rename_changes_the_chosen_page_only_and_stays(sims):
    post_json(sims.ent_url + "_sim/faults", {"rename": [{"path": "/cas/login", "from": "Identifiant", "to": "Login"}]})
    for _ in range(2):   # for good, unless `times` says otherwise
        with urllib.request.urlopen(sims.ent_url + "cas/login", timeout=10) as answer:
            body = answer.read().decode()
        assert "Login" in body and "Identifiant" not in body
    with urllib.request.urlopen(sims.ent_url + "appli/agenda", timeout=10) as answer:
        assert answer.status == 200
    assert [hit["kind"] for hit in get_json(sims.ent_url + "_sim/faults")["hits"]] == ["rename", "rename"]
    for wrong in ({"rename": [{"path": "/cas/login", "from": ""}]}, {"rename": [{"path": "/x", "to": "y"}]}):
        request = urllib.request.Request(sims.ent_url + "_sim/faults", data=json.dumps(wrong).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400


def test_delay_is_visible_while_it_lasts(sims):
    post_json(sims.sacoche_url + "_sim/faults", {"delay": [{"page": "public_accueil", "seconds": 1.5}]})
    seen = []
    slow = threading.Thread(target=lambda: seen.append(status_of(sims.sacoche_url + "index.php?page=public_accueil")))
    started = time.monotonic()
    slow.start()
    deadline = started + 5
    while get_json(sims.sacoche_url + "_sim/faults")["delaying"] != 1:
        assert time.monotonic() < deadline
    slow.join()
    assert time.monotonic() - started >= 1.5 and seen
    assert get_json(sims.sacoche_url + "_sim/faults")["delaying"] == 0


def test_a_cut_answer_announces_more_than_it_sends(sims):
    post_json(sims.ent_url + "_sim/faults", {"cut": [{"path": "/cas/login", "bytes": 60}]})
    connection = http.client.HTTPConnection(sims.ent.host, sims.ent.port, timeout=10)
    connection.request("GET", "/cas/login")
    answer = connection.getresponse()
    with pytest.raises(http.client.IncompleteRead) as cut:
        answer.read()
    assert len(cut.value.partial) == 60 and int(answer.getheader("Content-Length")) > 60
    assert status_of(sims.ent_url + "cas/login") == 200     # used up


def test_a_server_that_goes_away_comes_back_on_the_same_port(sims):
    post_json(sims.sacoche_url + "_sim/faults", {"go_away": [{"page": "public_accueil", "seconds": 1}]})
    assert status_of(sims.sacoche_url + "index.php?page=public_accueil") in ("RemoteDisconnected", "ConnectionResetError")
    assert status_of(sims.sacoche_url + "index.php?page=public_accueil") == "ConnectionRefusedError"
    deadline = time.monotonic() + 10
    while status_of(sims.sacoche_url + "index.php?page=public_accueil") == "ConnectionRefusedError":
        assert time.monotonic() < deadline, "the simulator never came back"
    assert get_json(sims.sacoche_url + "_sim/faults")["hits"][0]["kind"] == "go_away"


def test_server_time_counts_requests_served_at_once_once():
    """The benchmarks' server time: what overlaps (a page's files, lists asked for together,
    both simulators) counts once, so that asking more at a time cannot flatter the bot."""
    from sim.server import busy_seconds
    assert busy_seconds([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]) == 4.0
    assert busy_seconds([(0.0, 5.0), (1.0, 2.0)]) == 5.0
    assert busy_seconds([(3.0, 4.0), (0.0, 1.0)]) == 2.0 and busy_seconds([]) == 0.0

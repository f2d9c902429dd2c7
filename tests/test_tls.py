"""TLS: a certificate the system does not trust stops the run before any click, unless the
config allows that one site's self-signed certificate (pinned by its fingerprint if given)."""
from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.tls import fingerprint
from conftest import DEMO, Bot
from sim.sacoche.app import create_app
from sim.seed import seed_sacoche
from sim.server import ServedApp


def self_signed(folder) -> tuple[str, str, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sacoche.college.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path), certificate.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def https_sacoche(tmp_path):
    cert, key, der = self_signed(tmp_path)
    app = create_app(tmp_path / "sim")
    seed_sacoche(app.config["STORE"])
    served = ServedApp(app, ssl_context=(cert, key)).start()
    yield served, fingerprint(der)
    served.stop()
    app.config["STORE"].close()


def state_of(served) -> dict:
    unchecked = ssl.create_default_context()
    unchecked.check_hostname, unchecked.verify_mode = False, ssl.CERT_NONE
    with urllib.request.urlopen(served.url + "_sim/state", context=unchecked, timeout=10) as answer:
        return json.load(answer)


def requests_made(served) -> int:
    return state_of(served)["requests"]


def https_bot(tmp_path, served, **site) -> Bot:
    bot = Bot(tmp_path, None)
    bot.config_data["sites"]["sacoche"] = {"url": served.url, **site}
    bot.write_config()
    bot.store_password(DEMO.sacoche_admin_password)
    return bot


def test_an_untrusted_certificate_stops_the_run_before_any_click(tmp_path, https_sacoche):
    served, shown = https_sacoche
    result = https_bot(tmp_path, served)("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2
    assert "Certificat TLS refusé" in result.stderr + result.stdout and shown in result.stderr + result.stdout
    assert "allow_self_signed_certificate: true" in result.stderr + result.stdout
    assert requests_made(served) == 0


def test_the_allowed_self_signed_certificate_of_that_site_is_accepted(tmp_path, https_sacoche):
    served, shown = https_sacoche
    bot = https_bot(tmp_path, served, allow_self_signed_certificate=True, certificate_sha256=shown.lower())
    result = bot("run", "sacoche-auth-mode", "--school", "123", "--json")
    assert result.code == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.report["flows"][0]["status"] == "done"
    assert state_of(served)["schools"]["123"]["params"]["connexion_mode"] == "cas"   # saved through https


def test_another_certificate_than_the_pinned_one_is_refused(tmp_path, https_sacoche):
    served, _ = https_sacoche
    bot = https_bot(tmp_path, served, allow_self_signed_certificate=True, certificate_sha256="AB" * 32)
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2 and "différent de celui autorisé" in result.stderr + result.stdout
    assert requests_made(served) == 0


def test_a_malformed_fingerprint_is_a_config_error(tmp_path, https_sacoche):
    served, _ = https_sacoche
    bot = https_bot(tmp_path, served)
    bot.config_data["sites"]["sacoche"].update(allow_self_signed_certificate=True, certificate_sha256="12:34")
    bot.write_config()
    result = bot("run", "sacoche-auth-mode", "--school", "123")
    assert result.code == 2 and "64 chiffres hexadécimaux" in result.stderr + result.stdout
    assert requests_made(served) == 0

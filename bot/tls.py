"""TLS before any click: each https site must present a certificate the system trusts, unless
the config allows a self-signed certificate for that one site (optionally pinned by its SHA-256
fingerprint). Chromium is then told to accept that certificate's key, and no other."""
from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .config import SiteConfig
from .errors import Refused
from .secrets import masked_url
from .text import de

CONNECT_TIMEOUT_S = 10


def fingerprint(der: bytes) -> str:
    """SHA-256 of a certificate, as browsers show it (AA:BB:…)."""
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def spki_hash(der: bytes) -> str:
    """What Chromium's --ignore-certificate-errors-spki-list takes: base64 SHA-256 of the key."""
    key = x509.load_der_x509_certificate(der).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _presented_certificate(host: str, port: int) -> bytes:
    unchecked = ssl.create_default_context()
    unchecked.check_hostname = False
    unchecked.verify_mode = ssl.CERT_NONE   # only to read the certificate and show its fingerprint
    with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as raw:
        with unchecked.wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True)


def check_site(name: str, site: SiteConfig) -> str | None:
    """None when the site is fine as it is (http on loopback, or a trusted certificate); the
    SPKI hash Chromium must accept when the config allows this site's self-signed certificate.
    Raises Refused otherwise. A site that does not answer is left to the flows to report."""
    parts = urlsplit(site.url)
    if parts.scheme != "https":
        return None
    host, port = parts.hostname, parts.port or 443
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as raw:
            with ssl.create_default_context().wrap_socket(raw, server_hostname=host):
                return None
    except ssl.SSLCertVerificationError as refusal:
        reason = refusal.verify_message or str(refusal)
    except OSError:
        return None
    der = _presented_certificate(host, port)
    shown = fingerprint(der)
    if not site.allow_self_signed_certificate:
        raise Refused(f"Certificat TLS refusé pour {masked_url(site.url)} (site « {name} ») : {reason}. "
                      f"Empreinte SHA-256 présentée : {shown}. Si c'est bien le certificat auto-signé de ce serveur "
                      f"(vérifiez l'empreinte auprès de son administrateur), ajoutez sous sites.{name} : "
                      f"allow_self_signed_certificate: true et certificate_sha256: \"{shown}\".")
    if site.certificate_sha256 and site.certificate_sha256 != shown:
        raise Refused(f"Certificat TLS {de(masked_url(site.url))} (site « {name} ») différent de celui autorisé : "
                      f"empreinte présentée {shown}, attendue {site.certificate_sha256} (clé "
                      f"sites.{name}.certificate_sha256). Le serveur a changé de certificat, ou ce n'est "
                      "pas le bon serveur : rien n'a été fait.")
    return spki_hash(der)


def accepted_certificates(sites: dict[str, SiteConfig]) -> list[str]:
    """Check every https site; the SPKI hashes of the self-signed certificates allowed."""
    return [spki for name, site in sites.items() if (spki := check_site(name, site)) is not None]

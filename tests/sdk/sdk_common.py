"""Shared helpers for the SDK scenarios: assertions, unique names, a lazily created sub-tenant,
and generators for a real X.509 certificate and a real PNG.

Imported by run_scenarios.py only AFTER it has exported MBED_CLOUD_SDK_HOST/API_KEY, because
mbed_cloud reads those when its global SDK / legacy API objects are first built.
"""
import datetime
import logging
import os
import socket
import struct
import tempfile
import uuid
import zlib

from mbed_cloud import SDK
from mbed_cloud.foundation import Account
from mbed_cloud.sdk import ApiErrorResponse

# requests/urllib3 default to "wait forever"; a hung server must fail the run, not stall it.
socket.setdefaulttimeout(float(os.environ.get("IAMD_SDK_TIMEOUT", "30")))


class SdkLogCollector(logging.Handler):
    """The Foundation interface never raises on a malformed response field: it logs
    'unable to deserialise received field ...' (ERROR) or 'Unknown enum value ...' (WARNING) and
    leaves the attribute as None.  Collect those so a scenario fails instead of passing on a
    half-parsed entity."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        if "mbed_cloud" in record.name:
            self.records.append(record)

    def take(self):
        out, self.records = self.records, []
        return [r.getMessage() + ("" if not r.exc_info else " (%s)" % r.exc_info[1]) for r in out]


# Installed on the root logger before mbed_cloud's legacy Config runs logging.basicConfig(INFO),
# which then becomes a no-op (keeps the run output free of INFO noise).
COLLECTOR = SdkLogCollector()
logging.getLogger().addHandler(COLLECTOR)


def uid():
    """Short unique token so every run uses fresh names/emails against a long-lived server."""
    return uuid.uuid4().hex[:12]


def check(cond, msg):
    # Not `assert`: must keep working under python -O.
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, what):
    check(actual == expected, "%s: expected %r, got %r" % (what, expected, actual))


def ids(entities):
    return [e.id for e in entities]


def is_datetime(value):
    return isinstance(value, datetime.datetime)


def expect_not_found(call, what):
    """Foundation reports every non-2xx as ApiErrorResponse; a missing entity must be 404 with a
    JSON error body (the SDK keeps the parsed body in .content)."""
    try:
        call()
    except ApiErrorResponse as err:
        eq(err.status_code, 404, what + ": HTTP status")
        check(isinstance(err.content, dict) and err.content.get("message"),
              what + ": 404 body should be a JSON error object with a message, got %r" % (err.content,))
        return err
    raise AssertionError(what + ": expected a 404 ApiErrorResponse but the call succeeded")


def expect_status(call, status, what):
    try:
        call()
    except ApiErrorResponse as err:
        eq(err.status_code, status, what + ": HTTP status")
        return err
    raise AssertionError("%s: expected HTTP %d but the call succeeded" % (what, status))


def strong_password():
    return "Pw-%s-Aa1!" % uuid.uuid4().hex


class Context(object):
    """Per-run state shared by all areas: connection settings, the caller's own account and one
    sub-tenant created on first use (tenants, certificates and branding all need one)."""

    def __init__(self, host, api_key):
        self.host = host
        self.api_key = api_key
        self._me = None
        self._sub = None

    def sdk(self, api_key=None):
        """A separate SDK instance, e.g. to act with a freshly issued key."""
        return SDK(api_key=api_key or self.api_key, host=self.host)

    def me(self):
        if self._me is None:
            self._me = Account().me()
        return self._me

    def subtenant(self):
        if self._sub is None:
            self._sub = create_subtenant()[0]
        return self._sub

    def remember_subtenant(self, account):
        if self._sub is None:
            self._sub = account


def create_subtenant():
    """POST /v3/accounts?action=create; returns (account, request_fields)."""
    u = uid()
    req = dict(display_name="sdk-tenant-" + u, end_market="IT", admin_email="admin-%s@example.com" % u,
               admin_name="adm_" + u, admin_full_name="Tenant Admin " + u, admin_password=strong_password(),
               aliases=["alias_" + u], country="United Kingdom")
    return Account(**req).create(), req


def make_certificate(cn):
    """Fresh self-signed EC P-256 CA certificate (PEM) so the server can really parse subject,
    issuer and validity, and so re-runs never collide on a duplicate certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    not_after = now + datetime.timedelta(days=3650)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii"), not_after


def make_png_file(rgb=(0, 128, 255)):
    """Writes a valid 1x1 PNG to a temp file and returns its path (the SDK uploads from a path)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"\x00" + bytes(rgb)  # filter byte + one RGB pixel
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    fd, path = tempfile.mkstemp(suffix=".png", prefix="iamd-sdk-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(png)
    return path

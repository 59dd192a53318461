"""Device-security scenarios: trusted certificates (own and sub-tenant), developer certificates,
server credentials, and the legacy CertificatesAPI listing."""
import datetime

from mbed_cloud import CertificatesAPI
from mbed_cloud.foundation import (DeveloperCertificate, ServerCredentials, SubtenantTrustedCertificate,
                                   TrustedCertificate)

from sdk_common import check, eq, expect_not_found, ids, is_datetime, make_certificate, uid


def utc_date(value):
    return value.astimezone(datetime.timezone.utc).date()


def trusted_certificate_crud(ctx):
    name = "sdk-cert-" + uid()
    pem, not_after = make_certificate(name)
    # POST /v3/trusted-certificates {certificate, description, name, service, status}
    tc = TrustedCertificate(name=name, certificate=pem, service="lwm2m", description="first",
                            status="ACTIVE").create()
    check(tc.id, "created certificate has no id")
    eq((tc.name, tc.service, tc.status, tc.account_id), (name, "lwm2m", "ACTIVE", ctx.me().id), "created fields")
    # subject/issuer/validity come from parsing the PEM
    check(name in (tc.subject or "") and name in (tc.issuer or ""), "subject/issuer %r/%r" % (tc.subject, tc.issuer))
    check(is_datetime(tc.validity), "validity not RFC3339: %r" % (tc.validity,))
    eq(utc_date(tc.validity), not_after.date(), "validity = notAfter")
    eq(tc.is_developer_certificate, False, "device_execution_mode of a plain certificate")
    got = TrustedCertificate(id=tc.id).read()
    eq(got.certificate.strip(), pem.strip(), "certificate PEM read back")
    # Read-modify-update re-sends certificate (same PEM!), service, status, enrollment_mode, name:
    # the server must not treat the certificate's own PEM as a duplicate.
    got.description = "second"
    got.update()
    eq(TrustedCertificate(id=tc.id).read().description, "second", "description after update")
    eq(ids(TrustedCertificate().list(filter={"name": {"eq": name}})), [tc.id], "name__eq filter")
    check(tc.id in ids(TrustedCertificate().list(filter={"service": {"eq": "lwm2m"}})), "service__eq=lwm2m")
    check(tc.id not in ids(TrustedCertificate().list(filter={"service": {"eq": "bootstrap"}})), "service__eq=bootstrap")
    tc.delete()
    expect_not_found(TrustedCertificate(id=tc.id).read, "read of deleted certificate")


def subtenant_trusted_certificate(ctx):
    acc = ctx.subtenant()
    name = "sdk-tenant-cert-" + uid()
    pem, _ = make_certificate(name)
    st = SubtenantTrustedCertificate(account_id=acc.id, name=name, certificate=pem, service="bootstrap").create()
    eq((st.account_id, st.name, st.service), (acc.id, name, "bootstrap"), "created tenant certificate")
    got = SubtenantTrustedCertificate(account_id=acc.id, id=st.id).read()
    eq(got.name, name, "read back name")
    got.description = "tenant"
    got.update()
    eq(SubtenantTrustedCertificate(account_id=acc.id, id=st.id).read().description, "tenant", "after update")
    check(st.id in ids(acc.trusted_certificates()), "account.trusted_certificates() misses it")
    check(st.id not in ids(TrustedCertificate().list()), "tenant certificate leaked into the root account")
    st.delete()
    expect_not_found(SubtenantTrustedCertificate(account_id=acc.id, id=st.id).read, "read of deleted certificate")


def developer_certificate_crud(ctx):
    name = "sdk-dev-" + uid()
    # POST /v3/developer-certificates {name, description}
    dev = DeveloperCertificate(name=name, description="dev cert").create()
    check(dev.id, "developer certificate has no id")
    eq(dev.account_id, ctx.me().id, "developer certificate account_id")
    check((dev.certificate or "").startswith("-----BEGIN CERTIFICATE-----"),
          "developer_certificate PEM missing: %r" % (dev.certificate,))
    check("PRIVATE KEY" in (dev.developer_private_key or ""), "developer_private_key missing")
    check(dev.security_file_content, "security_file_content missing")
    got = DeveloperCertificate(id=dev.id).read()  # GET /v3/developer-certificates/{id}
    eq((got.name, got.description), (name, "dev cert"), "read back")
    eq(got.certificate.strip(), dev.certificate.strip(), "certificate read back")
    # same id is a trusted certificate with device_execution_mode=1
    info = got.get_trusted_certificate_info()  # GET /v3/trusted-certificates/{id}
    eq((info.id, info.name, info.is_developer_certificate), (dev.id, name, True), "trusted-certificate view")
    dev.delete()  # DELETE /v3/trusted-certificates/{id}
    expect_not_found(DeveloperCertificate(id=dev.id).read, "read of deleted developer certificate")
    expect_not_found(TrustedCertificate(id=dev.id).read, "trusted view of deleted developer certificate")


def server_credentials(ctx):
    boot = ServerCredentials().get_bootstrap()  # GET /v3/server-credentials/bootstrap
    lwm2m = ServerCredentials().get_lwm2m()  # GET /v3/server-credentials/lwm2m
    for what, cred in (("bootstrap", boot), ("lwm2m", lwm2m)):
        check(cred.server_uri, what + " server_uri missing")
        check("BEGIN CERTIFICATE" in (cred.server_certificate or ""), what + " server_certificate missing")
    check(boot.server_uri != lwm2m.server_uri, "bootstrap and lwm2m share a server_uri")


def legacy_list_certificates(ctx):
    name = "sdk-legacy-" + uid()
    pem, _ = make_certificate(name)
    tc = TrustedCertificate(name=name, certificate=pem, service="bootstrap").create()
    dev = DeveloperCertificate(name=name + "-dev").create()
    try:
        api = CertificatesAPI()
        # list_certificates(): only GET /v3/trusted-certificates, no per-item calls
        listed = {c.id: c for c in api.list_certificates()}
        check(tc.id in listed and dev.id in listed, "list_certificates() misses new certificates")
        eq(listed[tc.id].type, "bootstrap", "legacy type of a bootstrap certificate (from service)")
        eq(listed[dev.id].type, "developer", "legacy type of a developer certificate (device_execution_mode=1)")
        # type=developer becomes device_execution_mode__eq=1
        developer_ids = [c.id for c in api.list_certificates(filters={"type": "developer"})]
        check(dev.id in developer_ids and tc.id not in developer_ids, "device_execution_mode__eq=1 filter")
        # get_certificate() adds GET /v3/developer-certificates/{id} or /v3/server-credentials/bootstrap
        eq(api.get_certificate(dev.id).header_file, dev.security_file_content, "legacy developer header_file")
        check(api.get_certificate(tc.id).server_uri, "legacy bootstrap certificate lacks server_uri")
    finally:
        tc.delete()
        dev.delete()


SCENARIOS = [trusted_certificate_crud, subtenant_trusted_certificate, developer_certificate_crud,
             server_credentials, legacy_list_certificates]

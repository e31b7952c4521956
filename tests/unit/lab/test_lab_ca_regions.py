import ipaddress
import ssl

import pytest
from cryptography import x509

from lab.ca import ensure_ca
from lab.twilio.regions import HostRefused, region_from_host


def test_ca_is_created_once_and_server_cert_names_loopback(tmp_path):
    files = ensure_ca(tmp_path)
    ca_pem = files.ca_cert.read_bytes()
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(ca_pem)
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert (files.ca_key.stat().st_mode & 0o777) == 0o600
    # Reused on the next start, so a configured CA bundle stays valid.
    assert ensure_ca(tmp_path).ca_cert.read_bytes() == ca_pem
    # The pair loads into a TLS server context and the CA into a client one.
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(files.server_cert), str(files.server_key))
    ssl.create_default_context(cafile=str(files.ca_cert))


def test_server_cert_reissued_when_missing(tmp_path):
    files = ensure_ca(tmp_path)
    files.server_cert.unlink()
    assert ensure_ca(tmp_path).server_cert.is_file()


@pytest.mark.parametrize(
    "host, region",
    [
        ("api.twilio.com", "us1"),
        ("API.Twilio.com:443", "us1"),
        ("api.us1.twilio.com", "us1"),
        ("api.ashburn.us1.twilio.com", "us1"),
        ("api.dublin.us1.twilio.com", "us1"),
        ("api.dublin.ie1.twilio.com", "ie1"),
        ("api.sydney.au1.twilio.com", "au1"),
        ("127.0.0.1:4443", "us1"),
        ("[::1]:4443", "us1"),
        ("localhost", "us1"),
    ],
)
def test_region_from_host(host, region):
    assert region_from_host(host) == region


@pytest.mark.parametrize(
    "host, words",
    [
        ("api.ie1.twilio.com", "deprecated"),
        ("api.au1.twilio.com", "deprecated"),
        ("api.tokyo.jp1.twilio.com", "does not serve"),
        ("example.com", "not a Twilio"),
        ("api.twilio.com.evil.example", "not a Twilio"),
    ],
)
def test_refused_hosts(host, words):
    with pytest.raises(HostRefused, match=words):
        region_from_host(host)

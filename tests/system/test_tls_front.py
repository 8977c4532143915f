"""misc/shocpp-tls.cfg: the real HAProxy in front of bin/shocpp-listener (Security Profile 2 with
TLS 1.2 or later, ECDHE and AEAD only). websocketd's own TLS, which accepts TLS 1.1 and CBC-SHA1,
is the control that shows the client below can speak those: the refusals come from the server."""

import socket
import ssl

import pytest

from conftest import ROOT, free_port, haproxy, run
from test_security import basic, billed_session, certificate, passwd  # noqa: F401 (a fixture)

CONFIG = ROOT / "misc" / "shocpp-tls.cfg"


@pytest.fixture
def tls_front(site, start_listener, certificate, tmp_path):  # noqa: F811
    """(the wss:// URL of HAProxy in front of a listener, the certificate); HAProxy in the foreground."""
    cert, key = certificate
    pem = tmp_path / "haproxy.pem"
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    listener = start_listener()
    port = free_port()
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "SHOCPP_TLS_ADDRESS": "127.0.0.1", "SHOCPP_TLS_PORT": str(port),
           "SHOCPP_TLS_PEM": str(pem), "WS_PORT": listener.rpartition(":")[2]}
    with haproxy(CONFIG, env, port, tmp_path / "haproxy.out"):
        yield f"wss://127.0.0.1:{port}", cert


def client(minimum=None, maximum=None, ciphers=None):
    """A client context that would accept old protocols and suites (security level 0)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(f"{ciphers or 'DEFAULT'}:@SECLEVEL=0")
    if minimum:
        context.minimum_version = minimum
    if maximum:
        context.maximum_version = maximum
    return context


def handshake(url, context):
    """(the TLS version, the cipher) the server agreed to, or the SSLError with which it refused."""
    host, port = url.split("//")[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                return tls.version(), tls.cipher()[0]
        except (ssl.SSLError, ConnectionResetError) as e:
            return e


AEAD_ECDHE = {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"}
TLS11 = dict(minimum=ssl.TLSVersion.TLSv1_1, maximum=ssl.TLSVersion.TLSv1_1)
OLD_SUITES = ["AES128-SHA", "AES256-SHA", "ECDHE-RSA-AES128-SHA", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA256"]


def test_tls_1_2_carries_a_billed_session_with_basic_auth(site, tls_front):
    url, cert = tls_front
    key = passwd(site, "CP1")
    trust = ssl.create_default_context(cafile=str(cert))
    trust.maximum_version = ssl.TLSVersion.TLSv1_2
    assert run(billed_session(url, "CP1", basic("CP1", key), ssl=trust)) == 10_000_002
    (line,) = site.stop_lines()
    assert (line["charger"], line["account"], line["energy_wh"]) == ("CP1", "home", 7000)
    version, suite = handshake(url, client(maximum=ssl.TLSVersion.TLSv1_2))
    assert (version, suite in AEAD_ECDHE) == ("TLSv1.2", True)
    assert handshake(url, client())[0] == "TLSv1.3"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_and_cbc_sha1_or_static_rsa_suites_are_refused(tls_front, site, start_listener, certificate):  # noqa: F811
    url, _ = tls_front
    assert isinstance(handshake(url, client(**TLS11)), (ssl.SSLError, ConnectionResetError))
    for suite in OLD_SUITES:
        refusal = handshake(url, client(maximum=ssl.TLSVersion.TLSv1_2, ciphers=suite))
        assert isinstance(refusal, (ssl.SSLError, ConnectionResetError)), suite
    # The control: the same clients get through to websocketd's own TLS.
    cert, key = certificate
    plain = start_listener({"SHOCPP_TLS_CERT": str(cert), "SHOCPP_TLS_KEY": str(key)}, scheme="wss")
    assert handshake(plain, client(**TLS11))[0] == "TLSv1.1"
    assert handshake(plain, client(maximum=ssl.TLSVersion.TLSv1_2, ciphers="AES128-SHA")) == ("TLSv1.2", "AES128-SHA")

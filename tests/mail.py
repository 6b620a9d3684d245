"""A real SMTP server in the test process (aiosmtpd), plain or with STARTTLS, and a mailbox the
tests read links and codes from."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LINK = re.compile(r"(https?://\S+/signin/email/[A-Za-z0-9_-]+)")
CODE = re.compile(r"\b([2-9A-Z]{4}-[2-9A-Z]{4})\b")


@dataclass
class Mail:
    to: str
    subject: str
    text: str
    html: str

    @property
    def link(self) -> str:
        found = LINK.search(self.text)
        assert found, self.text
        return found.group(1)

    @property
    def path(self) -> str:
        return "/" + self.link.split("/", 3)[3]

    @property
    def code(self) -> str:
        found = CODE.search(self.text)
        assert found, self.text
        return found.group(1)


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        for rcpt in envelope.rcpt_tos:
            self.mails.append(
                Mail(
                    to=rcpt,
                    subject=str(parsed["Subject"]),
                    text=text.get_content() if text else "",
                    html=html.get_content() if html else "",
                )
            )
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if m.to == address]

    def last(self, address: str, subject_part: str = "") -> Mail:
        found = [m for m in self.to(address) if subject_part in m.subject]
        assert found, f"no mail to {address} with {subject_part!r}: {self.mails}"
        return found[-1]


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for localhost / 127.0.0.1 (the test's CA file is the certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "smtp.crt", tmp / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class SmtpServer:
    """aiosmtpd on a fixed port; can be stopped and started again (the 'SMTP down' tests)."""

    def __init__(self, port: int, *, tls: tuple[Path, Path] | None = None) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.tls = tls
        self._controller: Controller | None = None

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            kwargs.update(tls_context=context, require_starttls=True)
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def settings(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "starttls" if self.tls else "none",
            "smtp_timeout_seconds": 3,
        }
        if self.tls:
            values["smtp_ca_file"] = self.tls[0]
        return values


async def deliver(app: Any) -> int:
    """Let the request's background work finish, then run the sender once (what its task
    does in a running server)."""
    ctx = app.state.ctx
    await ctx.background.drain()
    sent: int = await ctx.mailer.deliver_due(limit=1000)
    await asyncio.sleep(0)
    return sent

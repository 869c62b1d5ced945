"""A real SMTP server on loopback for tests (aiosmtpd), started and stopped at will.

    server = SMTPServer(free_port())     # configure SMTP_PORT=server.port, then
    server.start()                       # ... mail is accepted into server.sink
    server.sink.messages()[0]["Subject"]
    server.stop()                        # the port refuses connections again
"""
from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class Sink:
    """aiosmtpd handler keeping every accepted envelope."""

    def __init__(self) -> None:
        self.envelopes = []
        self.sessions = 0  # SMTP greetings: how many connections the client opened

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.sessions += 1
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    # Controller(port=0) is not usable: its readiness probe connects to self.port.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPServer:
    def __init__(self, port: int) -> None:
        self.port, self.sink, self.controller = port, Sink(), None

    def start(self) -> SMTPServer:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class MailToSink:
    """Base for test classes whose app sends real mail to a sink on a free port.

    ``app_config`` points the app's SMTP settings at ``self.port``; the ``smtp`` fixture runs the
    sink there (a test that wants the server down at first starts ``SMTPServer(self.port)`` itself).
    """

    @pytest.fixture
    def app_config(self):
        self.port = free_port()
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "MAIL_FROM": "help@acme.test",
                "EXTERNAL_URL": "https://support.acme.test/"}

    @pytest.fixture
    def smtp(self, app_config):
        server = SMTPServer(self.port).start()
        yield server
        server.stop()

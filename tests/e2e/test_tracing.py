"""OpenTelemetry traces (issue 16, item 4) through a real Sesame process to an OTLP/HTTP
collector in this test process: one passkey sign-in's spans (the request, its SQL, its Redis
commands on PostgreSQL + Redis), the service's name, and the request's JSON log line carrying
the same trace id. With no OTLP endpoint, the serving process loads nothing of the SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.factories import Browser
from tests.processes import ROOT, free_port, serve
from tests.softauthn import SoftAuthenticator


class Collector:
    """Receives OTLP/HTTP protobuf exports (POST /v1/traces) and keeps every span."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        self.resources: list[dict] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
                    ExportTraceServiceRequest,
                )

                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector.take(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def take(self, request) -> None:
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            self.resources.append(resource)
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append({
                        "name": span.name,
                        "trace_id": span.trace_id.hex(),
                        "attributes": {a.key: a.value for a in span.attributes},
                    })  # fmt: skip


@pytest.fixture
def collector():
    found = Collector()
    yield found
    found.server.shutdown()


async def test_a_sign_in_is_traced_end_to_end(backend, collector, tmp_path):
    port = free_port()
    url = f"http://localhost:{port}"
    env = {
        **os.environ, **backend.env(), "SESAME_ISSUER": url, "SESAME_PORT": str(port),
        "SESAME_LOG_FORMAT": "json",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
    }  # fmt: skip
    log = tmp_path / "sesame.log"
    async with serve(env, url, log, log_level="info"), httpx.AsyncClient(base_url=url) as c:
        auth = SoftAuthenticator(origin=url)
        browser = Browser(c)
        (await browser.signup(auth)).raise_for_status()
        await browser.form("/signout")
        assert (await browser.signin(auth)).status_code == 200
        for _ in range(100):
            finish = [s for s in collector.spans if s["name"] == "POST /signin/finish"]
            if finish:
                break
            time.sleep(0.1)  # noqa: ASYNC251 (the collector runs on its own threads)
    assert finish, [s["name"] for s in collector.spans][:50]
    trace_id = finish[0]["trace_id"]
    in_trace = [s for s in collector.spans if s["trace_id"] == trace_id]
    systems = {s["attributes"]["db.system"].string_value for s in in_trace
               if "db.system" in s["attributes"]}  # fmt: skip
    expected = {"postgresql", "redis"} if backend.name == "postgres" else {"sqlite"}
    assert expected <= systems, (systems, [s["name"] for s in in_trace])
    assert {"service.name": "sesame"}.items() <= collector.resources[0].items()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    logged = [e for e in lines if e.get("route") == "/signin/finish"]
    assert logged and logged[-1]["trace_id"] == trace_id


def test_without_an_endpoint_nothing_of_the_sdk_is_loaded():
    """(FastAPI loads the small opentelemetry-api on its own; the SDK, the exporter and the
    instrumentations stay out.)"""
    probe = (
        "import sys, service.app, service.cli.serve; "
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', "
        "'opentelemetry.instrumentation', 'opentelemetry.exporter'))))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True,
    ).stdout.strip()  # fmt: skip
    assert loaded == "[]"

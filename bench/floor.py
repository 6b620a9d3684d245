"""The floor under the token endpoint: what the HTTP server alone costs, in Python as Sesame
serves and in Node as node-oidc-provider serves, and the same with the two RS256 signatures
every code exchange makes.

``compare.py`` sets Sesame against node-oidc-provider. This sets the servers underneath them
against each other, with no framework, no storage and no OAuth: each answers
``POST /token`` (a form body, Basic authorization, as ``compare.py`` sends) by reading the body
and writing a small JSON object, and in the ``sign`` variant by first making two RS256 JWS
(``cryptography`` in Python, ``node:crypto`` in Node, both on OpenSSL) the size of an ID token
and an access token. The Python server is uvicorn with uvloop and httptools, started as
``service.supervisor`` starts Sesame (no access log), on a bare ASGI callable; the Node server
is ``node:http``. Each is pinned to ``--server-cpu`` and wrk to ``--client-cpu``; the runs
alternate (Python then Node, Node then Python). It prints requests/s, every non-200 and the
server's CPU per request; nothing is asserted.

What Sesame adds above its floor is then its own work (authentication of the client, the
code's and the grant's round trips, building the claims, the middleware); what node-oidc-provider
adds above its floor is its own. ``bench/README.md`` puts the figures side by side.

    .venv/bin/python -u bench/floor.py --duration 8 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.targets import cpu_seconds  # noqa: E402
from tests.processes import free_port  # noqa: E402

LUA = ROOT / "bench" / "wrk" / "token.lua"
BODY = "grant_type=client_credentials&scope=api"
AUTH = "Basic YmVuY2g6YmVuY2gtc2VjcmV0"

# The payloads are the size of Sesame's ID token and access token claims in compare.py.
PYTHON_APP = r"""
import base64, json, os
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGN = os.environ["FLOOR_SIGN"] == "1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
HEADER = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"k1","typ":"JWT"}').rstrip(b"=")
CLAIMS = [{"iss": "http://localhost:1", "sub": "u" * 22, "aud": "c" * 22, "iat": 0,
           "exp": 0, "auth_time": 0, "nonce": "n" * 22, "at_hash": "h" * 22, "sid": "s" * 22},
          {"iss": "http://localhost:1", "sub": "u" * 22, "aud": "https://api", "iat": 0,
           "exp": 0, "client_id": "c" * 22, "scope": "openid profile email",
           "jti": "j" * 22, "gid": "g" * 22}]


def jws(claims):
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    signing_input = HEADER + b"." + payload
    signature = KEY.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    answer = {"token_type": "Bearer", "expires_in": 300}
    if SIGN:
        answer["id_token"] = jws(CLAIMS[0])
        answer["access_token"] = jws(CLAIMS[1])
    data = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"cache-control", b"no-store"),
        (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
"""

NODE_APP = r"""
const http = require('node:http');
const crypto = require('node:crypto');
const sign = process.env.FLOOR_SIGN === '1';
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const header = Buffer.from('{"alg":"RS256","kid":"k1","typ":"JWT"}').toString('base64url');
const claims = [
  { iss: 'http://localhost:1', sub: 'u'.repeat(22), aud: 'c'.repeat(22), iat: 0, exp: 0,
    auth_time: 0, nonce: 'n'.repeat(22), at_hash: 'h'.repeat(22), sid: 's'.repeat(22) },
  { iss: 'http://localhost:1', sub: 'u'.repeat(22), aud: 'https://api', iat: 0, exp: 0,
    client_id: 'c'.repeat(22), scope: 'openid profile email', jti: 'j'.repeat(22),
    gid: 'g'.repeat(22) },
];
function jws(c) {
  const input = header + '.' + Buffer.from(JSON.stringify(c)).toString('base64url');
  return input + '.' + crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
}
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    Buffer.concat(chunks);
    const answer = { token_type: 'Bearer', expires_in: 300 };
    if (sign) { answer.id_token = jws(claims[0]); answer.access_token = jws(claims[1]); }
    const data = JSON.stringify(answer);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store',
      'content-length': Buffer.byteLength(data) });
    res.end(data);
  });
}).listen(Number(process.env.FLOOR_PORT), '127.0.0.1', () => console.log('ready'));
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per timed run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--client-cpu", default="1")
    return parser.parse_args()


def start(kind: str, sign: bool, port: int, workdir: Path, cpu: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FLOOR_SIGN": "1" if sign else "0", "FLOOR_PORT": str(port)}
    if kind == "python":
        (workdir / "floor_app.py").write_text(PYTHON_APP)
        command = [
            sys.executable, "-m", "uvicorn", "floor_app:app", "--host", "127.0.0.1",
            "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    else:
        (workdir / "floor_app.js").write_text(NODE_APP)
        command = ["node", str(workdir / "floor_app.js")]
    return subprocess.Popen(
        ["taskset", "-c", cpu, *command], cwd=workdir, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def ready(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def wrk(args: argparse.Namespace, url: str) -> dict[str, object]:
    command = [
        "taskset", "-c", args.client_cpu, "wrk", "-t1", f"-c{args.connections}",
        f"-d{args.duration}s", "--timeout", "10s", "-s", str(LUA), url,
    ]  # fmt: skip
    env = {**os.environ, "BENCH_ITEMS": "", "BENCH_BODY": BODY, "BENCH_AUTH": AUTH}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[6:]))
    raise SystemExit(f"wrk said nothing usable:\n{done.stdout}\n{done.stderr}")


async def one(args: argparse.Namespace, kind: str, sign: bool, workdir: Path) -> float:
    port = free_port()
    proc = start(kind, sign, port, workdir, args.server_cpu)
    try:
        await ready(port)
        await asyncio.to_thread(wrk, args, f"http://127.0.0.1:{port}")  # warm up, not counted
        cpu = cpu_seconds(proc.pid)
        r = await asyncio.to_thread(wrk, args, f"http://127.0.0.1:{port}")
        cpu = cpu_seconds(proc.pid) - cpu
    finally:
        proc.terminate()
        proc.wait()
    rate = int(r["ok"]) * 1e6 / int(r["duration_us"])  # type: ignore[call-overload]
    cpu_ms = float(cpu * 1000 / max(1, int(r["requests"])))  # type: ignore[call-overload]
    variant = "two RS256 JWS" if sign else "empty answer"
    print(
        f"  {kind:6}  {variant:14} {rate:9.1f}/s  non-200 {r['non200']}  "
        f"server CPU {cpu_ms:.3f} ms/request",
        flush=True,
    )
    return cpu_ms


async def run(args: argparse.Namespace) -> None:
    print(
        f"duration={args.duration}s connections={args.connections} rounds={args.rounds} "
        f"cpus: server {args.server_cpu}, wrk {args.client_cpu}; {os.cpu_count()} cores"
    )
    sums: dict[tuple[str, bool], float] = {}
    with tempfile.TemporaryDirectory(prefix="sesame-floor-") as tmp:
        for n in range(args.rounds):
            order = ["python", "node"] if n % 2 == 0 else ["node", "python"]
            print(f"== round {n + 1}: {' then '.join(order)}", flush=True)
            for sign in (False, True):
                for kind in order:
                    key = (kind, sign)
                    sums[key] = sums.get(key, 0.0) + await one(args, kind, sign, Path(tmp))
                    await asyncio.sleep(0.5)
    for sign in (False, True):
        variant = "two RS256 JWS" if sign else "empty answer"
        py, node = sums[("python", sign)] / args.rounds, sums[("node", sign)] / args.rounds
        print(f"mean CPU per request, {variant}: python {py:.3f} ms, node {node:.3f} ms")


if __name__ == "__main__":
    asyncio.run(run(parse_args()))

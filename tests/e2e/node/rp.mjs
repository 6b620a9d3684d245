// A relying app built on openid-client (the certified Node RP library), for the browser tests.
// It signs in through Sesame and exercises every step a real app uses, letting the library do
// all validation: discovery, code + PKCE + state + nonce, ID token checks, userinfo, refresh,
// revocation, and the end-session URL. Each callback renders what happened as JSON.
//   ISSUER=... PORT=... CLIENT_ID=... CLIENT_SECRET=... node rp.mjs
import http from "node:http";
import * as oidc from "openid-client";

const { ISSUER, PORT, CLIENT_ID, CLIENT_SECRET } = process.env;
const base = `http://localhost:${PORT}`;
const config = await oidc.discovery(
  new URL(ISSUER), CLIENT_ID, undefined, oidc.ClientSecretBasic(CLIENT_SECRET),
  { execute: [oidc.allowInsecureRequests] },  // http://localhost in tests only
);
const pending = new Map();

function send(res, status, body, type = "text/html") {
  res.writeHead(status, { "content-type": `${type}; charset=utf-8` });
  res.end(body);
}

function page(result, links = "") {
  const json = JSON.stringify(result, null, 2).replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<!doctype html><title>openid-client RP</title><pre id="result">${json}</pre>${links}`;
}

async function login(url, res) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const params = {
    redirect_uri: `${base}/cb`, scope: "openid profile email", state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  };
  for (const name of ["prompt", "max_age"]) {
    if (url.searchParams.has(name)) params[name] = url.searchParams.get(name);
  }
  const maxAge = params.max_age === undefined ? undefined : Number(params.max_age);
  pending.set(state, { verifier, nonce, maxAge });
  // ?par=1: the library pushes the request to /par first (RFC 9126) and sends only
  // client_id and request_uri through the browser.
  const target = url.searchParams.has("par")
    ? await oidc.buildAuthorizationUrlWithPAR(config, params)
    : oidc.buildAuthorizationUrl(config, params);
  res.writeHead(302, { location: target.href });
  res.end();
}

async function callback(url, res) {
  const flow = pending.get(url.searchParams.get("state")) || {};
  pending.delete(url.searchParams.get("state"));
  let tokens;
  try {
    tokens = await oidc.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: flow.verifier, expectedState: url.searchParams.get("state"),
      expectedNonce: flow.nonce, maxAge: flow.maxAge,
    });
  } catch (err) {
    return send(res, 200, page({ error: err.error || err.code || String(err), iss: url.searchParams.get("iss") }));
  }
  const claims = tokens.claims();
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  await oidc.tokenRevocation(config, refreshed.refresh_token);
  const afterRevoke = await oidc.refreshTokenGrant(config, refreshed.refresh_token).then(
    () => "accepted", (err) => err.error || String(err));
  const endSession = oidc.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: `${base}/bye`, state: "bye-state",
  });
  send(res, 200, page({
    claims, userinfo, refreshed: Boolean(refreshed.access_token && refreshed.refresh_token),
    refreshedSub: refreshed.claims()?.sub, afterRevoke,
  }, `<a id="logout" href="${endSession.href.replace(/&/g, "&amp;")}">Sign out</a>`));
}

http.createServer(async (req, res) => {
  const url = new URL(req.url, base);
  try {
    if (url.pathname === "/login") return await login(url, res);
    if (url.pathname === "/cb") return await callback(url, res);
    if (url.pathname === "/bye") return send(res, 200, page({ signedOut: true, state: url.searchParams.get("state") }));
    send(res, 404, "not found", "text/plain");
  } catch (err) {
    send(res, 500, page({ crash: String(err && err.stack || err) }));
  }
}).listen(Number(PORT), "127.0.0.1", () => console.log(`openid-client RP on ${base}`));

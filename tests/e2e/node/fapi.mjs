// A high-assurance relying app on openid-client, for the browser tests of issue 17 (FAPI 2.0):
// it authenticates with private_key_jwt (its key given by the test, its public key served at
// /jwks, which Sesame fetches), pushes every request to /par, and holds a DPoP key from which
// every token request, refresh and userinfo call is proven (the library fetches Sesame's DPoP
// nonce and retries on its own). ?acr=phr asks for a passkey-level sign-in.
//   ISSUER=... PORT=... CLIENT_ID=... CLIENT_KEY=<private JWK as JSON> node fapi.mjs
import http from "node:http";
import * as oidc from "openid-client";

const { ISSUER, PORT, CLIENT_ID, CLIENT_KEY } = process.env;
const base = `http://localhost:${PORT}`;
const jwk = JSON.parse(CLIENT_KEY);
const { d, ...publicJwk } = jwk;
const signingKey = await crypto.subtle.importKey(
  "jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"],
);
let config;
async function configured() {
  config ??= await oidc.discovery(
    new URL(ISSUER), CLIENT_ID, { id_token_signed_response_alg: "ES256" },
    oidc.PrivateKeyJwt({ key: signingKey, kid: jwk.kid }),
    { execute: [oidc.allowInsecureRequests] },  // http://localhost in tests only
  );
  return config;
}
const dpopKey = await oidc.randomDPoPKeyPair("ES256");
const pending = new Map();

function send(res, status, body, type = "text/html") {
  res.writeHead(status, { "content-type": `${type}; charset=utf-8` });
  res.end(body);
}

function page(result) {
  const json = JSON.stringify(result, null, 2).replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<!doctype html><title>FAPI RP</title><pre id="result">${json}</pre>`;
}

async function login(url, res) {
  const config = await configured();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const params = {
    redirect_uri: `${base}/cb`, scope: "openid profile", state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  };
  if (url.searchParams.has("acr")) params.acr_values = url.searchParams.get("acr");
  pending.set(state, { verifier, nonce });
  const DPoP = oidc.getDPoPHandle(config, dpopKey);
  const target = await oidc.buildAuthorizationUrlWithPAR(config, params, { DPoP });
  res.writeHead(302, { location: target.href });
  res.end();
}

async function callback(url, res) {
  const config = await configured();
  const flow = pending.get(url.searchParams.get("state")) || {};
  pending.delete(url.searchParams.get("state"));
  const DPoP = oidc.getDPoPHandle(config, dpopKey);
  let tokens;
  try {
    tokens = await oidc.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: flow.verifier, expectedState: url.searchParams.get("state"),
      expectedNonce: flow.nonce,
    }, undefined, { DPoP });
  } catch (err) {
    return send(res, 200, page({ error: err.error || err.code || String(err) }));
  }
  const claims = tokens.claims();
  const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP });
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
  // The same token without its proof, as a plain bearer token: the library's error.
  const asBearer = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub).then(
    () => "accepted", (err) => err.code || err.error || String(err));
  send(res, 200, page({
    claims, userinfo, tokenType: tokens.token_type, refreshedType: refreshed.token_type,
    sameRefreshToken: refreshed.refresh_token === tokens.refresh_token, asBearer,
  }));
}

http.createServer(async (req, res) => {
  const url = new URL(req.url, base);
  try {
    if (url.pathname === "/jwks") return send(res, 200, JSON.stringify({ keys: [publicJwk] }), "application/json");
    if (url.pathname === "/login") return await login(url, res);
    if (url.pathname === "/cb") return await callback(url, res);
    send(res, 404, "not found", "text/plain");
  } catch (err) {
    send(res, 500, page({ crash: String(err && err.stack || err) }));
  }
}).listen(Number(PORT), "127.0.0.1", () => console.log(`FAPI RP on ${base}`));

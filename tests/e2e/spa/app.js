// A single-page app on its own origin: the authorization code flow with PKCE as a public
// client, then userinfo, a refresh and a revocation, every call cross-origin (CORS), with
// oauth4webapi doing the protocol work and every validation. With "dpop" in its config, every
// token request and the userinfo call carry DPoP proofs (RFC 9449) from a key made in this
// page, fetching Sesame's nonce when told to (use_dpop_nonce); a refresh without a proof must
// then fail, since a public client's refresh token is bound to its key.
import * as oauth from "/oauth4webapi.js";

const status = (text) => { document.getElementById("status").textContent = text; };
const config = await (await fetch("/config.json")).json();
const issuer = new URL(config.issuer);
const insecure = { [oauth.allowInsecureRequests]: true }; // the test's Sesame runs on http://localhost
const client = { client_id: config.client_id };
const auth = oauth.None();
const redirectUri = `${location.origin}/callback`;

const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));

async function signIn() {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem("flow", JSON.stringify({ verifier, state, nonce }));
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid profile email",
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  }).toString();
  status("redirecting");
  location.assign(url.href);
}

// Once more when the server asks for its DPoP nonce (oauth4webapi keeps the nonce it sent).
async function withNonce(request) {
  try {
    return await request();
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error;
    return await request();
  }
}

async function callback() {
  const flow = JSON.parse(sessionStorage.getItem("flow"));
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), flow.state);
  const options = config.dpop
    ? { ...insecure, DPoP: oauth.DPoP(client, await oauth.generateKeyPair("ES256")) }
    : insecure;
  const tokens = await withNonce(async () => oauth.processAuthorizationCodeResponse(
    as, client,
    await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, flow.verifier, options),
    { expectedNonce: flow.nonce, requireIdToken: true },
  ));
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  const info = await oauth.processUserInfoResponse(
    as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, options),
  );
  const refreshed = await withNonce(async () => oauth.processRefreshTokenResponse(
    as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token, options),
  ));
  let withoutProof = "accepted";
  if (config.dpop) {
    try {
      await oauth.processRefreshTokenResponse(
        as, client, await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token, insecure),
      );
    } catch (error) {
      withoutProof = error.error || error.code || String(error);
    }
  }
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, client, auth, refreshed.refresh_token, insecure),
  );
  let afterRevocation = "accepted";
  try {
    await oauth.processRefreshTokenResponse(
      as, client, await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token, insecure),
    );
  } catch (error) {
    afterRevocation = error.error || error.code || String(error);
  }
  document.getElementById("result").textContent = JSON.stringify({
    sub: claims.sub,
    aud: claims.aud,
    username: info.preferred_username,
    email: info.email,
    rotated: refreshed.refresh_token !== tokens.refresh_token,
    afterRevocation,
    tokenType: tokens.token_type,
    withoutProof,
  });
  status("done");
}

try {
  await (location.pathname === "/callback" ? callback() : signIn());
} catch (error) {
  status(`failed: ${error.name}: ${error.message}`);
}

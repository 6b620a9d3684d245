// Sesame's passkey ceremonies: sign up, sign in (button, autofill, username-first), add a passkey.
// Uses the browser's native WebAuthn JSON helpers where present, with a small fallback encoder.
(() => {
  "use strict";

  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const supported = typeof window.PublicKeyCredential === "function";

  const b64url = {
    encode(buffer) {
      const bytes = new Uint8Array(buffer);
      let text = "";
      for (const b of bytes) text += String.fromCharCode(b);
      return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
    decode(value) {
      const text = atob(value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4));
      return Uint8Array.from(text, (c) => c.charCodeAt(0)).buffer;
    },
  };

  const withIds = (list) => (list || []).map((c) => ({ ...c, id: b64url.decode(c.id) }));

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: b64url.decode(json.challenge),
      user: { ...json.user, id: b64url.decode(json.user.id) },
      excludeCredentials: withIds(json.excludeCredentials),
    };
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return { ...json, challenge: b64url.decode(json.challenge), allowCredentials: withIds(json.allowCredentials) };
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    const r = cred.response;
    const out = {
      id: cred.id,
      rawId: b64url.encode(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: b64url.encode(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = b64url.encode(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = b64url.encode(r.authenticatorData);
      out.response.signature = b64url.encode(r.signature);
      out.response.userHandle = r.userHandle ? b64url.encode(r.userHandle) : null;
    }
    return out;
  }

  // The page's own words, in its language (render.SCRIPT_TEXT, translated by the server).
  let text = {};
  try { text = JSON.parse(document.getElementById("sesame-text").textContent); } catch (_) { text = {}; }
  function say(key, values = {}) {
    return (text[key] || key).replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        // Errors come back in the page's language, whatever decided it (ui_locales, picker).
        "Accept-Language": document.documentElement.lang || "en",
        "X-CSRF-Token": csrf,
      },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { data = {}; }
    if (!response.ok) {
      const error = new Error(data.message || say("server", { status: response.status }));
      error.server = data;
      throw error;
    }
    return data;
  }

  function show(text, kind = "alert") {
    const el = document.getElementById("message");
    if (!el) return;
    el.textContent = text || "";
    el.className = kind;
    el.hidden = !text;
  }

  function explain(err) {
    if (err.server) return err.message;
    switch (err.name) {
      case "NotAllowedError":
        return say("closed");
      case "InvalidStateError":
        return say("exists");
      case "SecurityError":
        return say("origin");
      case "AbortError":
        return "";
      default:
        return say("browser", { reason: err.message || err.name });
    }
  }

  function busy(button, on) {
    if (!button) return;
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  // --- WebAuthn Signal API (L3 5.1.10): keep the person's passkey provider in step ----------
  // Feature-detected; a provider that does not support it, or refuses, changes nothing here.
  function signal(name, options) {
    const fn = window.PublicKeyCredential && PublicKeyCredential[name];
    if (typeof fn !== "function") return;
    try {
      Promise.resolve(fn.call(PublicKeyCredential, options)).catch(() => {});
    } catch (_) { /* unsupported options: ignore */ }
  }

  // A passkey this site does not know (deleted here, or never finished): the provider may
  // hide or remove it, so the person is not offered it again.
  function signalUnknown(err, cred, rpId) {
    if (cred && err.server && err.server.error === "unknown_passkey") {
      signal("signalUnknownCredential", { rpId: rpId || location.hostname, credentialId: cred.id });
    }
  }

  // --- sign in -------------------------------------------------------------------------------
  let autofill = null;

  function stopAutofill() {
    if (autofill) autofill.abort();
    autofill = null;
  }

  async function finishSignin(ceremony, cred, next) {
    const done = await post("/signin/finish", { ceremony, credential: credentialJSON(cred), next });
    window.location.assign(done.redirect);
  }

  async function signIn(button, username, next) {
    stopAutofill();
    show("");
    busy(button, true);
    let cred = null;
    let rpId = null;
    try {
      const begun = await post("/signin/begin", username ? { username } : {});
      rpId = begun.publicKey.rpId;
      cred = await navigator.credentials.get({ publicKey: requestOptions(begun.publicKey) });
      await finishSignin(begun.ceremony, cred, next);
    } catch (err) {
      signalUnknown(err, cred, rpId);
      show(explain(err));
    } finally {
      busy(button, false);
    }
  }

  async function startAutofill(next) {
    if (!PublicKeyCredential.isConditionalMediationAvailable) return;
    if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
    const controller = new AbortController();
    autofill = controller;
    let begun;
    let cred;
    try {
      begun = await post("/signin/begin", {});
      cred = await navigator.credentials.get({
        publicKey: requestOptions(begun.publicKey),
        mediation: "conditional",
        signal: controller.signal,
      });
    } catch (_) {
      // Nothing the person started: no passkey offered, the request aborted or timed out.
      // Silence; the button and the form remain.
      return;
    }
    try {
      await finishSignin(begun.ceremony, cred, next);
    } catch (err) {
      // The person chose a passkey: now an error is theirs to see.
      signalUnknown(err, cred, begun.publicKey.rpId);
      show(explain(err));
    }
  }

  function setupSignin(root) {
    const next = root.dataset.next || "/account";
    const button = document.getElementById("passkey-signin");
    button.addEventListener("click", () => signIn(button, null, next));
    const form = document.getElementById("username-signin");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const username = form.elements.username.value.trim();
      if (!username) {
        show(say("username"));
        return;
      }
      signIn(form.querySelector("button"), username, next);
    });
    startAutofill(next);
  }

  // --- sign up -------------------------------------------------------------------------------
  function fieldErrors(form, fields) {
    for (const name of ["username", "email", "name"]) {
      const el = document.getElementById(`${name}-error`);
      const input = form.elements[name];
      const text = (fields || {})[name] || "";
      if (el) { el.textContent = text; el.hidden = !text; }
      if (input) input.setAttribute("aria-invalid", text ? "true" : "false");
    }
  }

  function setupSignup() {
    const form = document.getElementById("signup-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      show("");
      fieldErrors(form, {});
      busy(button, true);
      try {
        const begun = await post("/signup/begin", {
          username: form.elements.username.value,
          email: form.elements.email.value,
          name: form.elements.name.value,
          invitation: form.closest("[data-page]").dataset.invitation || null,
        });
        const cred = await navigator.credentials.create({ publicKey: creationOptions(begun.publicKey) });
        const next = form.closest("[data-page]").dataset.next || null;
        const done = await post("/signup/finish", { ceremony: begun.ceremony, credential: credentialJSON(cred), next });
        window.location.assign(done.redirect);
      } catch (err) {
        if (err.server && err.server.fields) {
          fieldErrors(form, err.server.fields);
          show(say("fields"));
        } else {
          show(explain(err));
        }
      } finally {
        busy(button, false);
      }
    });
  }

  // --- account -------------------------------------------------------------------------------
  // A button that runs one ceremony: begin on the server, ask the authenticator, finish.
  // ``stay``: reload the page the button is on instead of going where the server says.
  function ceremonyButton(id, path, ask, stay) {
    const button = document.getElementById(id);
    if (!button) return;
    button.addEventListener("click", async () => {
      show("");
      busy(button, true);
      try {
        const begun = await post(`${path}/begin`, {});
        const cred = await ask(begun.publicKey);
        const done = await post(`${path}/finish`, { ceremony: begun.ceremony, credential: credentialJSON(cred) });
        window.location.assign(stay ? window.location.pathname : done.redirect);
      } catch (err) {
        show(explain(err));
      } finally {
        busy(button, false);
      }
    });
  }

  function signalAccount(root) {
    const data = root.dataset;
    if (!data.userId) return;
    const ids = (data.credentialIds || "").split(" ").filter(Boolean);
    signal("signalAllAcceptedCredentials", { rpId: data.rpId, userId: data.userId, allAcceptedCredentialIds: ids });
    signal("signalCurrentUserDetails", { rpId: data.rpId, userId: data.userId, name: data.username, displayName: data.displayName });
  }

  function setupAccount(root) {
    signalAccount(root);
    ceremonyButton("add-passkey", "/account/passkeys",
      (options) => navigator.credentials.create({ publicKey: creationOptions(options) }));
    ceremonyButton("step-up", "/account/step-up",
      (options) => navigator.credentials.get({ publicKey: requestOptions(options) }));
    ceremonyButton("step-up-data", "/account/step-up",
      (options) => navigator.credentials.get({ publicKey: requestOptions(options) }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector("[data-page]");
    if (!root) return;
    if (!supported) {
      show(say("unsupported"));
      return;
    }
    if (root.dataset.page === "signin") setupSignin(root);
    if (root.dataset.page === "signup") setupSignup();
    if (root.dataset.page === "account") setupAccount(root);
    if (root.dataset.page === "console") {
      ceremonyButton("step-up-console", "/account/step-up",
        (options) => navigator.credentials.get({ publicKey: requestOptions(options) }), true);
    }
  });
})();

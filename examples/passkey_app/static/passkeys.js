// The page side of the example: the browser's native WebAuthn JSON methods, nothing else.
"use strict";

async function call(path, body, method = "POST") {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? {} : await response.json();
  if (!response.ok) throw new Error(data.message || data.error || response.statusText);
  return data;
}

function showError(err) {
  document.getElementById("error").textContent = err.message || String(err);
}

document.addEventListener("DOMContentLoaded", () => {
  const add = document.getElementById("passkey-add");
  if (add) add.addEventListener("click", async () => {
    try {
      const begun = await call("/passkeys/register/start", {});
      const options = PublicKeyCredential.parseCreationOptionsFromJSON(begun.publicKey);
      const credential = await navigator.credentials.create({ publicKey: options });
      await call("/passkeys/register/finish", { ceremony: begun.ceremony, credential: credential.toJSON() });
      window.location.reload();
    } catch (err) { showError(err); }
  });
  const login = document.getElementById("passkey-login");
  if (login) login.addEventListener("click", async () => {
    try {
      const begun = await call("/passkeys/login/start", {});
      const options = PublicKeyCredential.parseRequestOptionsFromJSON(begun.publicKey);
      const credential = await navigator.credentials.get({ publicKey: options });
      await call("/passkeys/login/finish", { ceremony: begun.ceremony, credential: credential.toJSON() });
      window.location.reload();
    } catch (err) { showError(err); }
  });
  for (const button of document.querySelectorAll("button.delete")) {
    button.addEventListener("click", async () => {
      try {
        await call(`/passkeys/${button.dataset.id}`, undefined, "DELETE");
        window.location.reload();
      } catch (err) { showError(err); }
    });
  }
});

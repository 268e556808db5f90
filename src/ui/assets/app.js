/**
 * The dashboard's entry: sign-in, the navigation, and the hash router (#/overview, #/executions?…,
 * #/executions/<id>, #/bidding, #/models, #/audit). Each view module exports show(container, route, signal) and
 * stops its polling when `signal` aborts, which happens when the route changes.
 */
import { ApiError, credential, describeFailure, getJson, whenUnauthorized } from "./api.js";
import * as audit from "./audit.js";
import * as bidding from "./bidding.js";
import { h } from "./dom.js";
import * as execution from "./execution.js";
import * as executions from "./executions.js";
import * as models from "./models.js";
import * as overview from "./overview.js";

const VIEWS = { overview, executions, bidding, models, audit };

const main = document.getElementById("view");
const nav = document.getElementById("nav");
const signIn = document.getElementById("sign-in");
const signInForm = document.getElementById("sign-in-form");
const signInMessage = document.getElementById("sign-in-message");
const signOut = document.getElementById("sign-out");
const keyInput = document.getElementById("key");

let running = new AbortController();

function parseRoute() {
  const [path, search = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [view = "", id] = path.split("/").filter((part) => part !== "");
  return { view: view || "overview", id: id === undefined ? undefined : decodeURIComponent(id), params: new URLSearchParams(search) };
}

function render() {
  running.abort();
  running = new AbortController();
  const signedIn = credential.get() !== null;
  signIn.hidden = signedIn;
  nav.hidden = !signedIn;
  signOut.hidden = !signedIn;
  main.hidden = !signedIn;
  if (!signedIn) {
    main.replaceChildren();
    keyInput.focus();
    return;
  }
  const route = parseRoute();
  for (const link of nav.querySelectorAll("a")) link.toggleAttribute("aria-current", link.dataset.view === route.view);
  const view = route.view === "executions" && route.id !== undefined ? execution : VIEWS[route.view];
  if (view === undefined) {
    main.replaceChildren(h("p", { class: "failure" }, `There is no view called ${JSON.stringify(route.view)}.`));
    return;
  }
  const signal = running.signal;
  Promise.resolve(view.show(main, route, signal)).catch((error) => {
    if (!signal.aborted) main.replaceChildren(h("p", { class: "failure", role: "alert" }, describeFailure(error)));
  });
}

/** Why a credential was refused, in words that say what to do. */
function refusal(error) {
  if (error instanceof ApiError && error.status === 401) {
    return `The gateway did not accept this key or token (${error.code}). Check that it was copied whole, and that it was not revoked or has not expired.`;
  }
  if (error instanceof ApiError && error.status === 403) {
    return `This key is valid but does not hold the operator scope, which the dashboard needs: it reads every tenant's records (${error.code}). Use a key issued with the operator scope (a tenant's admin scope is not enough).`;
  }
  return `Could not sign in: ${describeFailure(error)}`;
}

let signingIn = false;

signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = keyInput.value.trim();
  if (value === "") return;
  signInMessage.textContent = "Checking…";
  signingIn = true;
  credential.set(value);
  try {
    // The overview route needs the operator scope: what every view needs.
    await getJson("/v1/admin/overview");
    keyInput.value = "";
    signInMessage.textContent = "";
    render();
  } catch (error) {
    credential.clear();
    signInMessage.textContent = refusal(error);
  } finally {
    signingIn = false;
  }
});

signOut.addEventListener("click", () => {
  credential.clear();
  signInMessage.textContent = "";
  history.replaceState(null, "", location.pathname);
  render();
});

whenUnauthorized((error) => {
  if (signingIn) return;
  credential.clear();
  signInMessage.textContent = `The gateway no longer accepts this key or token (${error.code}): sign in again.`;
  render();
});

window.addEventListener("hashchange", render);
render();

/**
 * The files the installer writes from the operator's choices: Atomic's configuration, the environment file shared by
 * the units and the `atomic` command, that command, and the systemd units (from the templates in systemd/).
 */
import { hostname } from "node:os";

/** Paths end up unquoted in unit files and in shell; refusing odd characters is simpler than escaping for both. */
export const SAFE_PATH = /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/;

/** sun_path holds 108 bytes with its NUL; PostgreSQL's socket lives in the data directory. */
export function socketPathProblem(dataDir) {
  const socket = `${dataDir}/postgres/.s.PGSQL.5432`;
  return Buffer.byteLength(socket) > 107 ? `the PostgreSQL socket ${socket} would be longer than 107 bytes; choose a shorter --data-dir` : null;
}

export function socketDatabaseUrl(dataDir) {
  // As Atomic itself writes it for its embedded PostgreSQL: role and database "atomic", socket folder as host.
  const query = new URLSearchParams({ host: `${dataDir}/postgres`, port: "5432" });
  return `postgresql://atomic@/atomic?${query.toString()}`;
}

export function defaultAuditOrigin() {
  const host = hostname().replace(/[^\x21-\x7e]/g, "");
  return host ? `${host}/atomic/audit` : "atomic.local/audit";
}

/**
 * The manifest of the models the current release carries (models/ in a bundle built with --models), through the
 * `current` link: the configuration is written once, and the family then follows every upgrade and rollback. A
 * release that carries none has no such file, which the gateway reads as an empty family.
 */
export function familyManifestPath(prefix) {
  return `${prefix}/current/models/manifest.json`;
}

export function renderConfig(o) {
  const config = {
    server: { host: o.host, port: o.port },
    dataDir: o.dataDir,
    // The site's own pins (atomic models add), then the release's carried family; never the generated test model.
    models: { manifest: `${o.dataDir}/models/manifest.json`, family: familyManifestPath(o.prefix), testModelWhenEmpty: false },
    audit: { origin: o.auditOrigin, keyDir: `${o.dataDir}/keys` },
    policy: { dir: `${o.prefix}/etc/policies` },
    inference: { gpu: o.gpu },
    egress: { selfTest: { mode: o.egressMode, targets: o.egressProbes } },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Double-quoted values read the same in systemd's EnvironmentFile= and in POSIX sh, given no " \ $ ` or newline. */
function envLine(name, value) {
  if (/["\\$`\n]/.test(value)) throw new Error(`${name} cannot hold any of " \\ $ \` or a newline: ${value}`);
  return `${name}="${value}"\n`;
}

export function renderEnv(o) {
  return [
    "# Read by Atomic's systemd units (EnvironmentFile=) and by the atomic command; written by the installer.\n",
    envLine("ATOMIC_CONFIG", `${o.prefix}/etc/atomic.config.json`),
    envLine("DATABASE_URL", o.databaseUrl),
    // For `atomic` commands run without DATABASE_URL (the installer's first run): the bundle's PostgreSQL.
    envLine("ATOMIC_PG_BIN_DIR", `${o.prefix}/current/postgres/bin`),
    // The dev server's binary; with the production server (its own unit) there is none in the bundle.
    ...(o.temporal === "server" ? [] : [envLine("ATOMIC_TEMPORAL_BINARY", `${o.prefix}/current/temporal/bin/temporal`)]),
    // The gateway uses atomic-temporal.service's server rather than starting a dev server of its own, and leaves
    // the workflows and this host's inference queue to atomic-worker.service (one worker per host, not two).
    envLine("ATOMIC_TEMPORAL_ADDRESS", `127.0.0.1:${o.temporalPort}`),
    envLine("ATOMIC_TEMPORAL_WORKER", "false"),
    envLine("HOME", o.dataDir),
    envLine("LC_ALL", "C"),
    // node-llama-cpp never fetches or builds a llama.cpp binary at run time; only the bundled builds are used.
    envLine("NODE_LLAMA_CPP_SKIP_DOWNLOAD", "true"),
  ].join("");
}

/**
 * `atomic` for the operator: the installed CLI, as the service account (so that keys and models it writes belong to
 * the services), with the services' environment, through `current` so an upgrade or rollback needs no new copy.
 */
export function renderWrapper(o) {
  return `#!/bin/sh
# Atomic's command line, as installed in ${o.prefix}. Run as root it drops to the ${o.user} account first: what it
# writes (keys, the model manifest) must belong to the services.
set -e
if [ "$(id -u)" = 0 ]; then
  exec setpriv --reuid=${o.user} --regid=${o.group} --init-groups -- "$0" "$@"
fi
set -a
. ${o.prefix}/etc/atomic.env
set +a
# A folder the account cannot enter (root's home, say) would fail Node at start; relative paths need it otherwise.
cd . 2>/dev/null || cd /
exec ${o.prefix}/current/node/bin/node ${o.prefix}/current/app/dist/cli/main.js "$@"
`;
}

/**
 * `atomic-up` for a host without systemd: the current release's runner (installer/up.mjs) over the installed
 * units, with the bundled Node.js. A release from before the runner (after a rollback) has none, said in one line.
 */
export function renderUpWrapper(o) {
  return `#!/bin/sh
# Starts Atomic's services without systemd, from the units in ${o.systemdDir}; see INSTALL.md, section 4.
runner=${o.prefix}/current/installer/up.mjs
if [ ! -f "$runner" ]; then
  echo "atomic-up: the current release has no $runner (it predates the runner); use systemd" >&2
  exit 1
fi
exec ${o.prefix}/current/node/bin/node "$runner" --prefix ${o.prefix} "$@"
`;
}

/**
 * Fills a unit template: @NAME@ placeholders, and lines starting with @ALL_IN_ONE@ kept only in that profile.
 * A placeholder left unfilled is an error, not a unit that systemd would start with a literal "@PREFIX@".
 */
export function renderUnit(template, o) {
  const values = {
    PREFIX: o.prefix,
    DATA_DIR: o.dataDir,
    USER: o.user,
    GROUP: o.group,
    TEMPORAL_PORT: String(o.temporalPort),
    CLIENT_NETWORKS: o.clientNetworks.map((n) => ` ${n}`).join(""),
    DATABASE_NETWORKS: o.databaseNetworks.map((n) => ` ${n}`).join(""),
    // up.mjs numbers its nine loopback ports from the frontend's; Temporal's defaults when it is 7233.
    TEMPORAL_PORT_BASE: o.temporalPort === 7233 ? "" : ` --port-base ${o.temporalPort}`,
  };
  const lines = [];
  for (const line of template.split("\n")) {
    if (line.startsWith("@ALL_IN_ONE@")) {
      if (o.profile === "all-in-one") lines.push(line.slice("@ALL_IN_ONE@".length));
      continue;
    }
    lines.push(line);
  }
  const text = lines.join("\n").replace(/@([A-Z_]+)@/g, (whole, name) => {
    if (!(name in values)) throw new Error(`unit template has an unknown placeholder ${whole}`);
    return values[name];
  });
  return text;
}

/** The units each profile installs. */
export function unitsFor(profile) {
  const common = ["atomic.target", "atomic-temporal.service", "atomic-gateway.service", "atomic-worker.service"];
  return profile === "all-in-one" ? ["atomic-postgres.service", ...common] : common;
}

/** The template a unit is rendered from: Temporal's unit is the dev server's or the production server's. */
export function templateFor(unit, temporal) {
  if (unit === "atomic-temporal.service" && temporal === "server") return "atomic-temporal-server.service.in";
  return `${unit}.in`;
}

/**
 * Settings of the production Temporal server (read by up.mjs): where its databases live. For all-in-one the
 * bundle's cluster through its socket; the database in the URL is only where CREATE DATABASE is issued.
 */
export function renderTemporalEnv(o) {
  return [
    "# Read by atomic-temporal.service (deploy/temporal/up.mjs); written by the installer.\n",
    envLine("ATOMIC_TEMPORAL_POSTGRES_URL", o.temporalPostgresUrl),
    ...(o.temporalPasswordFile ? [envLine("ATOMIC_TEMPORAL_PG_PASSWORD_FILE", o.temporalPasswordFile)] : []),
  ].join("");
}

export function socketAdminUrl(dataDir) {
  const query = new URLSearchParams({ host: `${dataDir}/postgres`, port: "5432" });
  return `postgresql://atomic@/postgres?${query.toString()}`;
}

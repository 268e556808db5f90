/**
 * Keeps a set of units running where systemd does not (up.mjs): starts them one by one in their After= order, each
 * once the one before is ready (its ExecStartPost checks passed), restarts one that exits as its Restart= lines say,
 * waiting longer after each failure in a row, and stops them all in reverse order.
 */
import { loadService, restartDelayMs, shouldRestart, startOrder, startUnit, stopUnit } from "./units.mjs";

/** A service that ran this long before it exited counts as having worked: its next restart waits RestartSec= again. */
const STABLE_MS = 60_000;
const MAX_BACKOFF_MS = 60_000;

const describe = (status) => (status.error ? status.error : status.code !== null ? `exit code ${status.code}` : `signal ${status.signal}`);
const seconds = (ms) => `${(ms / 1000).toFixed(ms < 1000 ? 2 : 0)} s`;

/**
 * unitFiles: the services' unit files (any order). Every file is parsed here, before anything starts, so that a unit
 * the runner cannot run faithfully stops it at once. `say` receives one line per event.
 */
export function createSupervisor({ unitFiles, logDir, say = () => {}, stableMs = STABLE_MS, maxBackoffMs = MAX_BACKOFF_MS }) {
  const order = startOrder(unitFiles.map((file) => loadService(file)));
  const slots = order.map((spec) => ({ spec, unit: null, failures: 0, timer: null, starting: null }));
  const abort = new AbortController();
  let stopping = null;

  /** Starts a slot's unit; the slot holds it once started (so that a stop waiting on this finds it). */
  function launch(slot) {
    slot.starting = startUnit(slot.spec, logDir, { signal: abort.signal }).then((unit) => {
      slot.unit = unit;
      watch(slot, unit);
      return unit;
    });
    return slot.starting.finally(() => { slot.starting = null; });
  }

  function watch(slot, unit) {
    void unit.exited.then((status) => {
      if (stopping || slot.unit !== unit) return;
      const { spec } = slot;
      if (!shouldRestart(spec, status)) {
        say(`${spec.name} exited (${describe(status)}); not restarted (Restart=${spec.restart}${spec.preventRestart.size ? `, RestartPreventExitStatus=${[...spec.preventRestart].join(" ")}` : ""}); see ${unit.logFile}`);
        return;
      }
      slot.failures = Date.now() - unit.startedAt >= stableMs ? 1 : slot.failures + 1;
      schedule(slot, `exited (${describe(status)})`);
    });
  }

  function schedule(slot, what) {
    const wait = restartDelayMs(slot.spec, slot.failures, maxBackoffMs);
    say(`${slot.spec.name} ${what}; restarting in ${seconds(wait)} (failure ${slot.failures} in a row)`);
    slot.timer = setTimeout(() => {
      slot.timer = null;
      if (stopping) return;
      launch(slot).then(
        (unit) => say(`${slot.spec.name} restarted (pid ${unit.child.pid})`),
        (error) => {
          if (stopping) return;
          slot.failures += 1;
          schedule(slot, `did not start: ${error.message}`);
        },
      );
    }, wait);
  }

  return {
    /** The start order, by unit name. */
    order: order.map((spec) => spec.name),
    /** The units running now (for tests and status lines). */
    running: () => slots.filter((s) => s.unit && s.unit.exitStatus === null).map((s) => s.unit),
    /** Starts every unit in order; throws (leaving the started ones to stop()) when one does not start. */
    async start() {
      for (const slot of slots) {
        if (stopping) return;
        say(`starting ${slot.spec.name}`);
        try {
          const unit = await launch(slot);
          say(`${slot.spec.name} started (pid ${unit.child.pid}); output in ${unit.logFile}`);
        } catch (error) {
          if (stopping) return;
          throw error;
        }
      }
    },
    /** Stops every unit in reverse order, each with its KillSignal= and TimeoutStopSec=; once. */
    stop() {
      stopping ??= (async () => {
        abort.abort();
        for (const slot of slots) if (slot.timer) clearTimeout(slot.timer);
        await Promise.all(slots.map((slot) => slot.starting?.catch(() => undefined)));
        const statuses = {};
        for (const slot of [...slots].reverse()) {
          if (!slot.unit) continue;
          const status = await stopUnit(slot.unit);
          statuses[slot.spec.name] = status;
          say(`${slot.spec.name} stopped (${describe(status)}${status.timedOut ? ", killed after TimeoutStopSec=" : ""})`);
        }
        return statuses;
      })();
      return stopping;
    },
  };
}

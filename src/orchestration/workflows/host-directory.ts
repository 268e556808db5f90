import { allHandlersFinished, condition, continueAsNew, defineQuery, defineSignal, setHandler, workflowInfo } from "@temporalio/workflow";
import type { HostAdvertisement } from "../types.js";

/** A model host's worker announces (and renews) which models it serves on which task queue. */
export const advertiseHostSignal = defineSignal<[HostAdvertisement]>("advertiseHost");
/** A worker shutting down takes its host out of the directory. */
export const withdrawHostSignal = defineSignal<[string]>("withdrawHost");
/** Every advertisement held, stale ones included: readers judge staleness by their own clock. */
export const listHostsQuery = defineQuery<HostAdvertisement[]>("listHosts");

export interface HostDirectoryState {
  hosts: HostAdvertisement[];
}

/** History events before the directory starts afresh with its state carried over. */
const HISTORY_LIMIT = 5_000;

/**
 * The directory of model hosts: one long-running workflow (id HOST_DIRECTORY_WORKFLOW_ID) that workers signal with
 * their advertisements, so every gateway and workflow on any machine sees the same placement, kept by Temporal.
 * It continues as new before its history grows large; advertisements carry over.
 */
export async function hostDirectoryWorkflow(state: HostDirectoryState = { hosts: [] }): Promise<void> {
  const hosts = new Map(state.hosts.map((h) => [h.hostId, h]));
  setHandler(advertiseHostSignal, (ad) => {
    hosts.set(ad.hostId, ad);
  });
  setHandler(withdrawHostSignal, (hostId) => {
    hosts.delete(hostId);
  });
  setHandler(listHostsQuery, () => [...hosts.values()]);
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT);
  await condition(allHandlersFinished);
  await continueAsNew<typeof hostDirectoryWorkflow>({ hosts: [...hosts.values()] });
}

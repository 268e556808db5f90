import { WorkflowNotFoundError, type Client } from "@temporalio/client";
import type { HostDirectoryReader } from "./activities/control.js";
import { CONTROL_TASK_QUEUE, HOST_DIRECTORY_WORKFLOW_ID } from "./names.js";
import type { HostAdvertisement } from "./types.js";
import { advertiseHostSignal, hostDirectoryWorkflow, listHostsQuery, withdrawHostSignal } from "./workflows/host-directory.js";

/** The host directory through a Temporal client: workers write to it, the locate activity and operators read it. */
export class TemporalHostDirectory implements HostDirectoryReader {
  constructor(private readonly client: Client) {}

  /** Starts the directory if no worker has yet, and records (or renews) the host's advertisement. */
  async advertise(ad: HostAdvertisement): Promise<void> {
    await this.client.workflow.signalWithStart(hostDirectoryWorkflow, {
      workflowId: HOST_DIRECTORY_WORKFLOW_ID,
      taskQueue: CONTROL_TASK_QUEUE,
      args: [{ hosts: [] }],
      signal: advertiseHostSignal,
      signalArgs: [ad],
    });
  }

  async withdraw(hostId: string): Promise<void> {
    try {
      await this.client.workflow.getHandle(HOST_DIRECTORY_WORKFLOW_ID).signal(withdrawHostSignal, hostId);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }

  /** Every advertisement, stale ones included; none when no host has advertised yet. */
  async list(): Promise<HostAdvertisement[]> {
    try {
      return await this.client.workflow.getHandle(HOST_DIRECTORY_WORKFLOW_ID).query(listHostsQuery);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return [];
      throw error;
    }
  }
}

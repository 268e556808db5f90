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

/**
 * The directory as the locate activity reads it: one query answers every task that locates within `maxAgeMs` of
 * it, instead of one query per task through the directory workflow (a round trip to the server and a query task
 * on the worker that holds it, which at a hundred tasks a second was most of the work). A copy at most `maxAgeMs`
 * old sees a new host that late at worst, and the reader asks afresh (`fresh`) when the copy has no host for a model.
 */
export class CachedHostDirectory implements HostDirectoryReader {
  private copy: { hosts: HostAdvertisement[]; readAt: number } | undefined;
  private reading: Promise<HostAdvertisement[]> | undefined;

  constructor(
    private readonly source: HostDirectoryReader,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async list(options: { fresh?: boolean } = {}): Promise<HostAdvertisement[]> {
    if (!options.fresh && this.copy && this.now() - this.copy.readAt <= this.maxAgeMs) return this.copy.hosts;
    // Tasks that locate at the same moment share one query.
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<HostAdvertisement[]> {
    const readAt = this.now();
    const hosts = await this.source.list();
    this.copy = { hosts, readAt };
    return hosts;
  }
}

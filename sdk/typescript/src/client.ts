import { Audit } from "./audit.js";
import { Events } from "./events.js";
import { Http, type ClientOptions } from "./http.js";
import { Decisions, Executions, FeedbackApi } from "./records.js";
import { Schemas } from "./schemas.js";
import { Tasks } from "./tasks.js";

/** Atomic's own API, beside what the OpenAI clients cover: tasks, schemas, records, the audit log, events. */
export class AtomicClient {
  readonly tasks: Tasks;
  readonly schemas: Schemas;
  readonly executions: Executions;
  readonly feedback: FeedbackApi;
  readonly decisions: Decisions;
  readonly audit: Audit;
  readonly events: Events;

  constructor(options: ClientOptions) {
    const http = new Http(options);
    this.tasks = new Tasks(http);
    this.schemas = new Schemas(http);
    this.executions = new Executions(http);
    this.feedback = new FeedbackApi(http);
    this.decisions = new Decisions(http);
    this.audit = new Audit(http);
    this.events = new Events(http);
  }
}

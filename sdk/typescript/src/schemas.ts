import type { RegisterSchemaRequest, SchemaList, SchemaRecord } from "./api-types.js";
import type { CallOptions, Http } from "./http.js";
import { ROUTES } from "./routes.js";

/** The tenant's registry of JSON Schemas, which tasks name. */
export class Schemas {
  constructor(private readonly http: Http) {}

  /** Versioned and immutable per version; registering the same document again answers the same record. */
  register(request: RegisterSchemaRequest, options?: CallOptions): Promise<SchemaRecord> {
    return this.http.json(ROUTES.registerSchema, { body: request, options });
  }

  /** A schema's latest version, or the version asked for. */
  get(name: string, version?: number, options?: CallOptions): Promise<SchemaRecord> {
    return version === undefined
      ? this.http.json(ROUTES.getSchema, { params: { name }, options })
      : this.http.json(ROUTES.getSchemaVersion, { params: { name, version }, options });
  }

  /** The latest version of each of the tenant's schemas. */
  async list(options?: CallOptions): Promise<SchemaRecord[]> {
    return (await this.http.json<SchemaList>(ROUTES.listSchemas, { options })).data;
  }
}

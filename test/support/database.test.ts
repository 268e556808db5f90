import { describe, expect, it } from "vitest";
import { withDatabase } from "./database.js";

describe("withDatabase", () => {
  it("replaces the database of TCP and unix-socket URLs and keeps everything else", () => {
    expect(withDatabase("postgres://user:pw@db.internal:5433/atomic?sslmode=require", "t1")).toBe(
      "postgres://user:pw@db.internal:5433/t1?sslmode=require",
    );
    expect(withDatabase("postgresql://atomic@/atomic?host=%2Ftmp%2Fpg&port=5432", "t2")).toBe(
      "postgresql://atomic@/t2?host=%2Ftmp%2Fpg&port=5432",
    );
  });

  it("adds a database to a URL that names none", () => {
    expect(withDatabase("postgres://localhost", "t3")).toBe("postgres://localhost/t3");
    expect(withDatabase("postgres://localhost?application_name=x", "t4")).toBe("postgres://localhost/t4?application_name=x");
  });

  it("refuses what is not a postgres URL", () => {
    expect(() => withDatabase("host=/tmp dbname=x", "t5")).toThrow(/postgres:\/\//);
  });
});

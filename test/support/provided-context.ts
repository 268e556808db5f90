/** Values the global setup provides to every test file through inject(). Import this file to type them. */
declare module "vitest" {
  export interface ProvidedContext {
    /** A server where tests may create and drop databases; each test file makes its own (createTestDatabase). */
    databaseUrl: string;
  }
}

export {};

/**
 * Why credentials were refused. The code and reason go to the log and the audit trail; clients only learn that
 * authentication failed, so that a probe learns nothing about which check it tripped.
 */
export class AuthenticationError extends Error {
  override readonly name = "AuthenticationError";
  constructor(readonly code: "credentials_missing" | "credentials_invalid", readonly reason: string) {
    super(reason);
  }
}

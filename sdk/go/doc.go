// Package atomic is Atomic's own API from Go: tasks (synchronous and asynchronous, their event stream,
// cancellation), schemas, executions, feedback, bidding decisions, the audit log (checkpoint, receipts) and the
// tenant's event stream — what the OpenAI clients do not cover.
//
// It also verifies, offline, what the gateway hands out: a receipt's inclusion proof against an Ed25519-signed
// checkpoint (VerifyReceipt), a checkpoint (VerifyCheckpoint), and a webhook delivery's signature (VerifyWebhook),
// with the log's public key (the JWK in the gateway's keys/audit-signing.pub.jwk, compared out of band); after a key
// rotation with every key, each retired one bounded by the key.rotated leaf that retired it (PublicKey.Retired). The
// checks and their codes are those of Atomic's own verifiers. Only the standard library is used.
package atomic

// Version is this SDK's version, as its module is tagged in `npm run sdk:package`'s module proxy.
const Version = "0.1.0"

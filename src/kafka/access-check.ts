// Before a process builds anything on Kafka it asks the brokers once, without retries,
// whether they let it in. Refused credentials or a certificate it cannot trust do not
// get better with retries: they end start-up with one line that says what to fix (never
// a secret), where kafkajs would otherwise retry them for a minute and log each attempt.
// A broker that does not answer at all is left to the normal retries (it may be starting).
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import { connectionSecurity } from './client.js';

export class KafkaAccessError extends Error {
  override readonly name = 'KafkaAccessError';
}

// Node's codes for a certificate chain it will not accept.
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What to do about a TLS failure with this code; undefined when the code is not a TLS one. */
function tlsHint(code: string): string | undefined {
  if (UNTRUSTED.has(code)) return 'set KAFKA_SSL_CA_FILE to the CA that signed the brokers\' certificates, or KAFKA_SSL_SERVERNAME to the name they carry';
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'is this a TLS listener? (KAFKA_SSL)';
  // An alert from the broker: it refused this client's certificate, or its absence.
  if (code.startsWith('ERR_SSL_') && code.includes('ALERT')) return 'the brokers refused this client\'s certificate: set KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE to one their CA signed';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'check the KAFKA_SSL_* settings';
  return undefined;
}

/** Resolves once the brokers accepted a connection (or did not answer at all); throws KafkaAccessError when they refused it. */
export async function checkKafkaAccess(config: Pick<KafkaConfig, 'brokers' | 'security'>, timeoutMs = 10_000): Promise<void> {
  const kafka = new Kafka({ clientId: 'sluice-access-check', brokers: config.brokers, ...connectionSecurity(config.security), connectionTimeout: timeoutMs, authenticationTimeout: timeoutMs, retry: { retries: 0 }, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    const refusal = refusalOf(error, config);
    if (refusal) throw new KafkaAccessError(refusal);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** What to tell the operator when the error is a refusal; undefined when it is not one. */
export function refusalOf(error: unknown, config: Pick<KafkaConfig, 'brokers' | 'security'>): string | undefined {
  const where = config.brokers.join(',');
  for (const e of causes(error)) {
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      const sasl = config.security.sasl;
      const who = sasl && sasl.mechanism !== 'oauthbearer' ? ` as ${sasl.username}` : '';
      return `Kafka at ${where} refused SASL ${sasl?.mechanism.toUpperCase() ?? ''} authentication${who}: check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (${firstLine(e.message)})`;
    }
    const code = (e as { code?: unknown }).code;
    const hint = typeof code === 'string' ? tlsHint(code) : undefined;
    if (hint) return `TLS to Kafka at ${where} failed (${code}): ${hint}`;
  }
  return undefined;
}

// kafkajs wraps what failed (a retrier's error holds the last attempt's, a TLS error the socket's).
function* causes(error: unknown): Generator<Error> {
  const seen = new Set<unknown>();
  let current = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    yield current;
    const e = current as Error & { originalError?: unknown };
    current = e.originalError ?? e.cause;
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.slice(0, 200);
}

// Structured JSON logs (pino). Every process creates one root logger here and passes
// children down; modules never create their own.
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Written as the `service` field of every line: api, executor, projector, cli, stack… */
  service: string;
  /** Where lines go; stderr by default so CLI output on stdout stays clean. */
  destination?: NodeJS.WritableStream;
}

export function createLogger({ level, service, destination = process.stderr }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service },
      // Credentials must never reach a log line, whichever field they hide in.
      redact: {
        paths: [
          'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
          'access_token', '*.access_token', 'refresh_token', '*.refresh_token', 'client_secret', '*.client_secret',
          // our own names, as deep as the configuration nests them (config.adsApi.credentials.*)
          ...['clientSecret', 'refreshToken', 'accessToken'].flatMap((name) => [name, `*.${name}`, `*.*.${name}`, `*.*.*.${name}`]),
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

// A private PostgreSQL server that speaks TLS only, for the tests of `DATABASE_URL`'s TLS
// settings: the machine's own server (`initdb`, `pg_ctl`) on a free port in a temporary
// directory, with a CA and a server certificate made by openssl and a pg_hba.conf that
// rejects every connection not over TLS. As root it runs as the postgres user (initdb
// refuses root).
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/DB?sslmode=verify-full&sslrootcert=CA`. */
  url(database: string): string;
  /** The same server without TLS settings (refused: the server takes TLS only). */
  plainUrl(database: string): string;
  caFile: string;
  stop(): Promise<void>;
}

export async function startTlsPostgres(): Promise<TlsPostgres> {
  const bin = join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort().at(-1)!, 'bin');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-tls-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Sluice test Postgres CA');
  writeFileSync(at('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
  const asRoot = userInfo().uid === 0;
  const pg = (command: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args]) : run(join(bin, command), args));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout), Number(gid));
    for (const name of readdirSync(dir)) chownSync(at(name), Number(stdout), Number(gid));
  }
  await run('chmod', ['600', at('server.key')]);
  await pg('initdb', ['-D', at('data'), '-A', 'trust', '-U', 'postgres']);
  writeFileSync(at('data/pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 reject\n');
  const port = await freePort();
  await pg('pg_ctl', ['-D', at('data'), '-l', at('postgres.log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=${at('server.crt')} -c ssl_key_file=${at('server.key')}`, 'start']);
  return {
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(at('ca.pem'))}`,
    plainUrl: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    caFile: at('ca.pem'),
    async stop() {
      await pg('pg_ctl', ['-D', at('data'), '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

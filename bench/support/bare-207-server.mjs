// Baseline for the simulator benchmark: a bare node:http server that reads the body and
// answers a fixed 207, doing none of the simulator's work. What the simulator loses
// against it is the cost of auth, limits, faults and entity state.
import { createServer } from 'node:http';

const body = JSON.stringify({ keywords: { success: [{ index: 0, keywordId: '1' }], error: [] } });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(207, { 'content-type': 'application/vnd.spKeyword.v3+json' });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log(`bare server on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

// A fake SES v2 endpoint for the deliver function: `POST /v2/email/outbound-emails` (REST-JSON),
// answered HTTP 200 with a MessageId. Every request is kept, with its raw message decoded, so the
// driver can check the newsletter was sent once and is the message `vectora run --deliver eml`
// writes.

import http from 'node:http';

export async function startFakeSes({ port = 0 } = {}) {
  const calls = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const call = { method: req.method, path: req.url };
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        call.from = body.FromEmailAddress;
        call.to = body.Destination?.ToAddresses ?? [];
        call.raw = Buffer.from(body.Content?.Raw?.Data ?? '', 'base64').toString('utf8');
      } catch (e) {
        call.error = `undecodable body: ${e.message}`;
      }
      calls.push(call);
      const answer = Buffer.from(JSON.stringify({ MessageId: `conformance-${calls.length}` }));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': answer.length });
      res.end(answer);
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = server.address().port;
  return {
    port: actual,
    endpoint: `http://127.0.0.1:${actual}`,
    calls,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

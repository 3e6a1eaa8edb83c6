import { createServer } from 'node:http';

// Placeholder entry point until the reference server lands (issue 7).
const port = Number(process.env.PORT ?? 8080);
createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  res.writeHead(404).end();
}).listen(port, () => console.log(`reference-server listening on :${port}`));

// bench/peers: Node's hello world, the one PM2 and the cluster script run too.
//   PORT=P [HOST=H] node hello.js   (the environment, not arguments: PM2 passes its own arguments)
'use strict';
const http = require('http');
const port = Number(process.env.PORT || 8080);
const host = process.env.HOST || '127.0.0.1';
http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('hello');
}).listen(port, host, () => console.log(`node listening on ${host}:${port}, pid ${process.pid}`));

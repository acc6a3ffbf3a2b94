// bench/peers: Node's cluster module with WORKERS (default 2) copies of hello.js sharing one port.
//   PORT=P [HOST=H] [WORKERS=N] node cluster.js   prints "cluster ready N" once every worker listens
'use strict';
const cluster = require('cluster');
const workers = Number(process.env.WORKERS || 2);
if (cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) console.log(`cluster ready ${workers}`);
  });
  cluster.on('exit', (w, code, signal) => console.log(`worker ${w.process.pid} ended (${signal || code})`));
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  require('./hello.js');
}

// Runs the seed README's WebSocket client (seed_client.js, verbatim) with Node's `ws` package as
// its `WebSocket`, as the README's users do; only the README's ws://localhost:3002 is pointed at
// the server under test (SEED_WS_ORIGIN, e.g. ws://127.0.0.1:40123), which listens on a free port.
'use strict';
const path = require('path');
const Ws = require('ws');

const origin = process.env.SEED_WS_ORIGIN;

class WebSocket extends Ws {
  constructor(address, ...rest) {
    super(origin ? address.replace('ws://localhost:3002', origin) : address, ...rest);
  }
}

Object.defineProperty(globalThis, 'WebSocket', { value: WebSocket, writable: true, configurable: true });
require(path.join(__dirname, 'seed_client.js'));

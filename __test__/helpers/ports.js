'use strict'
// Small shared helpers: free loopback ports and polling.
const net = require('node:net')
const http = require('node:http')

// Returns a TCP port that was free on 127.0.0.1 a moment ago.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// Resolves with the status code once anything answers HTTP at url, else null.
function httpProbe(url, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(null))
  })
}

module.exports = { freePort, sleep, httpProbe }

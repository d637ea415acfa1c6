'use strict'
// A test CA (openssl) and an HTTPS front on 127.0.0.1 that relays to a plain-HTTP server (the STS
// stub), as STS is reached in real life. The certificate is for localhost and 127.0.0.1.
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

/** @returns {Promise<{url: string, caFile: string, close: () => Promise<void>}>} */
async function httpsFront(upstreamUrl) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-tls-'))
  const ssl = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: 'ignore' })
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=cdk-mfa-rs test CA')
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'leaf.csr', '-subj', '/CN=localhost')
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
  ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '2', '-extfile', 'ext.cnf')
  const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
    const up = http.request(upstreamUrl + req.url, { method: req.method, headers: req.headers }, (u) => {
      res.writeHead(u.statusCode, u.headers)
      u.pipe(res)
    })
    req.pipe(up)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `https://localhost:${server.address().port}`,
    caFile: path.join(dir, 'ca.pem'),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
        fs.rmSync(dir, { recursive: true, force: true })
      }),
  }
}

module.exports = { httpsFront }

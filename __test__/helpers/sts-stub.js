'use strict'
// A fault-injecting AWS STS endpoint for tests (Query protocol, XML answers in the
// real STS shapes). Listens on 127.0.0.1 only.
//
// Library use:
//   const { startStsStub } = require('./helpers/sts-stub')
//   const stub = await startStsStub({ upstream: moto.url /* optional */, faults: {...} })
//   stub.url            'http://127.0.0.1:<port>'  (use as AWS_ENDPOINT_URL_STS)
//   stub.calls          array of logged requests (see logCall below)
//   stub.setFaults({...}) / stub.resetFaults() / stub.failNext(kind, n, action?)
//   stub.clearCalls() / stub.usedCodes / await stub.stop()
//
// Modes:
//   standalone (no upstream): answers AssumeRole / GetSessionToken / GetCallerIdentity
//     itself with fresh random credentials per call.
//   proxy (upstream = moto URL): after the fault checks pass, forwards the request
//     unchanged to moto and relays moto's answer, so the keys are ones moto knows
//     (moto maps AssumeRole keys to the role's account).
//
// Process use (demo / benchmark):
//   node __test__/helpers/sts-stub.js --port 0 [--upstream URL] [--faults JSON]
//   → first stdout line: {"url":"http://127.0.0.1:NNNN","port":NNNN,"pid":...}
//   Control endpoints (same port): GET /__stub/calls, POST /__stub/faults (JSON, merged),
//   POST /__stub/reset (faults + calls + used codes), POST /__stub/fail-next {"kind","count","action"}.
//
// Faults (setFaults merges; resetFaults restores these defaults):
//   invalidCodes: ['000000']    codes answered AccessDenied "...invalid MFA one time pass code."
//   validCodes: null            if an array: only these codes are accepted (others invalid)
//   rejectReusedCodes: true     a code that already succeeded (per serial) → AccessDenied
//   sessionCredentialRules: true GetSessionToken with session creds → AccessDenied;
//                                chained AssumeRole with DurationSeconds > 3600 → ValidationError
//   roleMaxSessionDuration: 43200  AssumeRole DurationSeconds above → ValidationError
//                                  (real IAM default is 3600; permissive by default here)
//   denyRoles: []               role ARNs whose AssumeRole → AccessDenied "User: … is not authorized…"
//   mfaRequiredRoles: []        role ARNs (or '*') whose AssumeRole without MFA → AccessDenied
//   latencyMs: 0                delay before answering; number or {Action: ms}
//   hang: false                 never answer anything (timeout tests)
//   failNext: []                queue of one-shot faults, consumed in order by matching calls:
//                               'http500' | 'http503' | 'throttle' | 'malformed' | 'hang' | 'reset'
//                               or {kind, action} to only hit one Action
//   defaultAccount: '123456789012'  account of unknown (static) caller keys in standalone mode
//   expiresInSeconds: {}        {Action: seconds}: answer credentials that expire that soon (both
//                               modes; in proxy mode the upstream's <Expiration> is rewritten)

const http = require('node:http')
const crypto = require('node:crypto')

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/'

const MSG = {
  invalidCode: 'MultiFactorAuthentication failed with invalid MFA one time pass code. ',
  reusedCode:
    'MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.',
  sessionCredsGst: 'Cannot call GetSessionToken with session credentials',
  chainedDuration: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
  maxSessionDuration: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
  throttle: 'Rate exceeded',
}

function defaultFaults() {
  return {
    invalidCodes: ['000000'],
    validCodes: null,
    rejectReusedCodes: true,
    sessionCredentialRules: true,
    roleMaxSessionDuration: 43200,
    denyRoles: [],
    mfaRequiredRoles: [],
    latencyMs: 0,
    hang: false,
    failNext: [],
    defaultAccount: '123456789012',
    expiresInSeconds: {},
  }
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
function randChars(n, alphabet = B32) {
  const bytes = crypto.randomBytes(n)
  let s = ''
  for (let i = 0; i < n; i++) s += alphabet[bytes[i] % alphabet.length]
  return s
}
const requestId = () => crypto.randomUUID()
const xmlEscape = (s) =>
  String(s).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c])
// STS formats Expiration without fractional seconds: 2019-11-09T13:34:41Z
const isoSeconds = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

function errorXml(code, message, type = 'Sender', rid = requestId()) {
  return (
    `<ErrorResponse xmlns="${NS}">\n` +
    `  <Error>\n    <Type>${type}</Type>\n    <Code>${xmlEscape(code)}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n` +
    `  <RequestId>${rid}</RequestId>\n</ErrorResponse>\n`
  )
}

function credentialsXml(c) {
  return (
    `    <Credentials>\n` +
    `      <AccessKeyId>${c.accessKeyId}</AccessKeyId>\n` +
    `      <SecretAccessKey>${xmlEscape(c.secretAccessKey)}</SecretAccessKey>\n` +
    `      <SessionToken>${xmlEscape(c.sessionToken)}</SessionToken>\n` +
    `      <Expiration>${isoSeconds(c.expiration)}</Expiration>\n` +
    `    </Credentials>\n`
  )
}

function okXml(action, inner, rid = requestId()) {
  return (
    `<${action}Response xmlns="${NS}">\n  <${action}Result>\n${inner}  </${action}Result>\n` +
    `  <ResponseMetadata>\n    <RequestId>${rid}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`
  )
}

const xmlAccessKeyId = (xml) => (/<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(xml) || [])[1] || null

function parseAccessKey(headers, params) {
  const auth = headers.authorization || ''
  const m = /Credential=([^/,\s]+)\//.exec(auth)
  if (m) return m[1]
  return params['X-Amz-Credential'] ? params['X-Amz-Credential'].split('/')[0] : params.AWSAccessKeyId || null
}

function validationError(field, value, constraint) {
  return {
    status: 400,
    code: 'ValidationError',
    message: `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`,
  }
}

class StsStub {
  constructor(opts = {}) {
    this.upstream = opts.upstream ? String(opts.upstream).replace(/\/+$/, '') : null
    this.calls = []
    this.usedCodes = new Set()
    // Every SecretAccessKey and SessionToken handed out (either mode), for secret-leak canaries.
    this.issuedSecrets = new Set()
    this.issued = new Map() // accessKeyId → {arn, account, userId} (standalone mode)
    this.faults = defaultFaults()
    if (opts.faults) this.setFaults(opts.faults)
    this.server = http.createServer((req, res) => this._handle(req, res))
    this.sockets = new Set()
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
  }

  listen(port = 0) {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => {
        this.port = this.server.address().port
        this.url = `http://127.0.0.1:${this.port}`
        resolve(this)
      })
    })
  }

  setFaults(partial = {}) {
    for (const [k, v] of Object.entries(partial)) {
      if (!(k in this.faults)) throw new Error(`sts-stub: unknown fault '${k}'`)
      this.faults[k] = k === 'failNext' ? [...v] : v
    }
    return this.faults
  }

  resetFaults() {
    this.faults = defaultFaults()
    return this.faults
  }

  // Queue `count` one-shot faults of `kind` (optionally only for one Action).
  failNext(kind, count = 1, action) {
    for (let i = 0; i < count; i++) this.faults.failNext.push(action ? { kind, action } : kind)
  }

  clearCalls() {
    this.calls.length = 0
  }

  callsFor(action) {
    return this.calls.filter((c) => c.action === action)
  }

  stop() {
    return new Promise((resolve) => {
      for (const s of this.sockets) s.destroy()
      this.server.close(() => resolve())
    })
  }

  // ---------------------------------------------------------------------------

  async _handle(req, res) {
    const chunks = []
    for await (const c of req) chunks.push(c)
    const raw = Buffer.concat(chunks)
    const u = new URL(req.url, 'http://stub')

    if (u.pathname.startsWith('/__stub/')) return this._control(u, req, raw, res)

    const params = Object.fromEntries(u.searchParams)
    const ctype = req.headers['content-type'] || ''
    if (req.method === 'POST' && (ctype.includes('x-www-form-urlencoded') || ctype === '')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))))
    }

    const call = {
      time: new Date().toISOString(),
      action: params.Action || null,
      roleArn: params.RoleArn || null,
      serialNumber: params.SerialNumber || null,
      tokenCode: params.TokenCode || null,
      durationSeconds: params.DurationSeconds !== undefined ? Number(params.DurationSeconds) : null,
      externalId: params.ExternalId || null,
      roleSessionName: params.RoleSessionName || null,
      webIdentityToken: params.WebIdentityToken || null,
      accessKeyId: parseAccessKey(req.headers, params),
      // SigV4 scope: Credential=<key>/<date>/<region>/<service>/aws4_request
      region: (/Credential=[^/]+\/\d+\/([^/]+)\//.exec(req.headers.authorization || '') || [])[1] || null,
      hasSessionToken: Boolean(req.headers['x-amz-security-token'] || params['X-Amz-Security-Token']),
      userAgent: req.headers['user-agent'] || null,
      status: null,
      errorCode: null,
      fault: null,
      // The AccessKeyId of the credentials this call handed out (200 answers): which identity
      // made a later call.
      issuedAccessKeyId: null,
    }
    this.calls.push(call)

    const f = this.faults
    const lat = typeof f.latencyMs === 'number' ? f.latencyMs : (f.latencyMs && f.latencyMs[call.action]) || 0
    if (lat > 0) await new Promise((r) => setTimeout(r, lat))

    if (f.hang) {
      call.fault = 'hang'
      return // never answer; stop() destroys the socket
    }

    const idx = f.failNext.findIndex((x) => typeof x === 'string' || !x.action || x.action === call.action)
    if (idx >= 0) {
      const entry = f.failNext.splice(idx, 1)[0]
      const kind = typeof entry === 'string' ? entry : entry.kind
      call.fault = kind
      return this._injected(kind, call, res)
    }

    const err = this._check(call)
    if (err) return this._sendError(res, call, err)

    if (this.upstream) return this._proxy(req, raw, call, res)
    return this._standalone(call, params, res)
  }

  _injected(kind, call, res) {
    switch (kind) {
      case 'http500':
        return this._sendError(res, call, { status: 500, code: 'InternalFailure', message: 'An internal error occurred.', type: 'Receiver' })
      case 'http503':
        return this._sendError(res, call, { status: 503, code: 'ServiceUnavailable', message: 'Service is unable to handle request.', type: 'Receiver' })
      case 'throttle':
        return this._sendError(res, call, { status: 400, code: 'Throttling', message: MSG.throttle })
      case 'malformed':
        call.status = 200
        res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId() })
        return res.end(`<${call.action || 'Unknown'}Response xmlns="${NS}"><${call.action || 'Unknown'}Result><Credentials><AccessKeyId>ASIA`)
      case 'reset':
        call.status = 0
        return res.socket.destroy()
      case 'hang':
        return
      default:
        throw new Error(`sts-stub: unknown failNext kind '${kind}'`)
    }
  }

  _isSessionCreds(call) {
    return call.hasSessionToken || (call.accessKeyId || '').startsWith('ASIA')
  }

  _callerArn(call) {
    const k = call.accessKeyId && this.issued.get(call.accessKeyId)
    if (k) return k.arn
    return `arn:aws:iam::${this.faults.defaultAccount}:user/stub-user`
  }

  // Validation + fault rules common to both modes. Returns an error or null.
  _check(call) {
    const f = this.faults
    const a = call.action
    if (!['AssumeRole', 'AssumeRoleWithWebIdentity', 'GetSessionToken', 'GetCallerIdentity'].includes(a)) {
      return { status: 400, code: 'InvalidAction', message: `Could not find operation ${a} for version 2011-06-15` }
    }
    if (a === 'AssumeRole') {
      if (!call.roleArn) return { status: 400, code: 'MissingParameter', message: "The request must contain the parameter RoleArn." }
      if (!call.roleSessionName) return { status: 400, code: 'MissingParameter', message: "The request must contain the parameter RoleSessionName." }
    }
    if (call.durationSeconds !== null && a !== 'GetCallerIdentity') {
      const max = a === 'AssumeRole' ? 43200 : 129600
      if (call.durationSeconds < 900) return validationError('durationSeconds', call.durationSeconds, 'Member must have value greater than or equal to 900')
      if (call.durationSeconds > max) return validationError('durationSeconds', call.durationSeconds, `Member must have value less than or equal to ${max}`)
    }
    if (a === 'GetSessionToken' && f.sessionCredentialRules && this._isSessionCreds(call)) {
      return { status: 403, code: 'AccessDenied', message: MSG.sessionCredsGst }
    }
    if (a === 'AssumeRole') {
      if (f.denyRoles.includes(call.roleArn)) {
        return { status: 403, code: 'AccessDenied', message: `User: ${this._callerArn(call)} is not authorized to perform: sts:AssumeRole on resource: ${call.roleArn}` }
      }
      const needMfa = f.mfaRequiredRoles.includes('*') || f.mfaRequiredRoles.includes(call.roleArn)
      if (needMfa && !call.serialNumber) {
        return { status: 403, code: 'AccessDenied', message: `User: ${this._callerArn(call)} is not authorized to perform: sts:AssumeRole on resource: ${call.roleArn}` }
      }
      if (f.sessionCredentialRules && this._isSessionCreds(call) && call.durationSeconds !== null && call.durationSeconds > 3600) {
        return { status: 400, code: 'ValidationError', message: MSG.chainedDuration }
      }
      if (call.durationSeconds !== null && call.durationSeconds > f.roleMaxSessionDuration) {
        return { status: 400, code: 'ValidationError', message: MSG.maxSessionDuration }
      }
    }
    if (a !== 'GetCallerIdentity' && (call.serialNumber || call.tokenCode !== null)) {
      const code = call.tokenCode
      if (code === null || code === '') {
        return { status: 403, code: 'AccessDenied', message: MSG.invalidCode }
      }
      if (code.length < 6) return validationError('tokenCode', code, 'Member must have length greater than or equal to 6')
      if (code.length > 6) return validationError('tokenCode', code, 'Member must have length less than or equal to 6')
      if (!/^\d{6}$/.test(code)) return validationError('tokenCode', code, 'Member must satisfy regular expression pattern: [\\d]*')
      if (!call.serialNumber) {
        return { status: 403, code: 'AccessDenied', message: MSG.invalidCode }
      }
      if (f.invalidCodes.includes(code) || (Array.isArray(f.validCodes) && !f.validCodes.includes(code))) {
        return { status: 403, code: 'AccessDenied', message: MSG.invalidCode }
      }
      if (f.rejectReusedCodes && this.usedCodes.has(`${call.serialNumber}#${code}`)) {
        return { status: 403, code: 'AccessDenied', message: MSG.reusedCode }
      }
    }
    return null
  }

  _markCodeUsed(call) {
    if (call.serialNumber && call.tokenCode) this.usedCodes.add(`${call.serialNumber}#${call.tokenCode}`)
  }

  _sendError(res, call, err) {
    const rid = requestId()
    call.status = err.status
    call.errorCode = err.code
    res.writeHead(err.status, { 'content-type': 'text/xml', 'x-amzn-requestid': rid })
    res.end(errorXml(err.code, err.message, err.type || 'Sender', rid))
  }

  _newCreds(durationSeconds) {
    return {
      accessKeyId: 'ASIA' + randChars(16),
      secretAccessKey: crypto.randomBytes(30).toString('base64'),
      sessionToken: 'FwoGZXIvYXdzE' + crypto.randomBytes(120).toString('base64'),
      expiration: new Date(Date.now() + durationSeconds * 1000),
    }
  }

  _standalone(call, params, res) {
    const rid = requestId()
    let body
    if (call.action === 'GetCallerIdentity') {
      const k = call.accessKeyId && this.issued.get(call.accessKeyId)
      const account = k ? k.account : this.faults.defaultAccount
      const arn = k ? k.arn : `arn:aws:iam::${account}:user/stub-user`
      const userId = k ? k.userId : 'AIDA' + randChars(17)
      body = okXml(
        'GetCallerIdentity',
        `    <Arn>${xmlEscape(arn)}</Arn>\n    <UserId>${xmlEscape(userId)}</UserId>\n    <Account>${account}</Account>\n`,
        rid,
      )
    } else if (call.action === 'GetSessionToken') {
      const creds = this._newCreds(call.durationSeconds ?? 43200)
      const callerArn = this._callerArn(call)
      const account = callerArn.split(':')[4]
      this.issued.set(creds.accessKeyId, { arn: callerArn, account, userId: 'AIDA' + randChars(17) })
      body = okXml('GetSessionToken', credentialsXml(creds), rid)
    } else {
      // AssumeRole (and AssumeRoleWithWebIdentity, which answers the same shape)
      const creds = this._newCreds(call.durationSeconds ?? 3600)
      const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(call.roleArn)
      const partition = m ? m[1] : 'aws'
      const account = m ? m[2] : this.faults.defaultAccount
      const roleName = m ? m[3] : 'unknown'
      const arn = `arn:${partition}:sts::${account}:assumed-role/${roleName}/${call.roleSessionName}`
      const roleId = 'AROA' + randChars(17)
      this.issued.set(creds.accessKeyId, { arn, account, userId: `${roleId}:${call.roleSessionName}` })
      body = okXml(
        call.action === 'AssumeRoleWithWebIdentity' ? call.action : 'AssumeRole',
        `    <AssumedRoleUser>\n      <AssumedRoleId>${roleId}:${xmlEscape(call.roleSessionName)}</AssumedRoleId>\n` +
          `      <Arn>${xmlEscape(arn)}</Arn>\n    </AssumedRoleUser>\n` +
          credentialsXml(creds) +
          `    <PackedPolicySize>6</PackedPolicySize>\n`,
        rid,
      )
    }
    call.status = 200
    call.issuedAccessKeyId = xmlAccessKeyId(body)
    this._markCodeUsed(call)
    this._recordSecrets(body)
    body = this._shortenExpiry(call, Buffer.from(body))
    res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': rid })
    res.end(body)
  }

  _shortenExpiry(call, body) {
    const secs = this.faults.expiresInSeconds[call.action]
    if (!secs) return body
    const at = new Date(Date.now() + secs * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    return Buffer.from(body.toString('utf8').replace(/<Expiration>[^<]*<\/Expiration>/, `<Expiration>${at}</Expiration>`))
  }

  _recordSecrets(xml) {
    for (const tag of ['SecretAccessKey', 'SessionToken']) {
      for (const m of xml.matchAll(new RegExp(`<${tag}>([^<]+)</${tag}>`, 'g'))) this.issuedSecrets.add(m[1])
    }
  }

  _proxy(req, raw, call, res) {
    const target = new URL(req.url, this.upstream)
    const headers = { ...req.headers, host: target.host }
    delete headers.connection
    headers['content-length'] = String(raw.length)
    const up = http.request(target, { method: req.method, headers }, (ures) => {
      const chunks = []
      ures.on('data', (c) => chunks.push(c))
      ures.on('end', () => {
        let body = Buffer.concat(chunks)
        call.status = ures.statusCode
        if (ures.statusCode === 200) {
          call.issuedAccessKeyId = xmlAccessKeyId(body.toString('utf8'))
          this._markCodeUsed(call)
          this._recordSecrets(body.toString('utf8'))
          body = this._shortenExpiry(call, body)
        } else {
          const m = /<Code>([^<]+)<\/Code>/.exec(body.toString('utf8'))
          call.errorCode = m ? m[1] : null
        }
        const h = { 'content-type': ures.headers['content-type'] || 'text/xml', 'content-length': String(body.length) }
        if (ures.headers['x-amzn-requestid']) h['x-amzn-requestid'] = ures.headers['x-amzn-requestid']
        res.writeHead(ures.statusCode, h)
        res.end(body)
      })
    })
    up.on('error', (e) => {
      this._sendError(res, call, { status: 502, code: 'StubUpstreamError', message: e.message, type: 'Receiver' })
    })
    up.end(raw)
  }

  _control(u, req, raw, res) {
    const send = (obj, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(obj))
    }
    try {
      const body = raw.length ? JSON.parse(raw.toString('utf8')) : {}
      if (u.pathname === '/__stub/calls') return send(this.calls)
      if (u.pathname === '/__stub/faults' && req.method === 'POST') return send(this.setFaults(body))
      if (u.pathname === '/__stub/faults') return send(this.faults)
      if (u.pathname === '/__stub/fail-next' && req.method === 'POST') {
        this.failNext(body.kind, body.count ?? 1, body.action)
        return send(this.faults)
      }
      if (u.pathname === '/__stub/reset' && req.method === 'POST') {
        this.resetFaults()
        this.clearCalls()
        this.usedCodes.clear()
        return send({ ok: true })
      }
      return send({ error: 'not found' }, 404)
    } catch (e) {
      return send({ error: e.message }, 400)
    }
  }
}

/**
 * @param {{upstream?: string, port?: number, faults?: object}} [opts]
 * @returns {Promise<StsStub>}
 */
async function startStsStub(opts = {}) {
  const stub = new StsStub(opts)
  await stub.listen(opts.port ?? 0)
  return stub
}

module.exports = { startStsStub, StsStub, MSG, defaultFaults }

if (require.main === module) {
  const args = process.argv.slice(2)
  const opt = (name) => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const port = Number(opt('--port') ?? 0)
  const upstream = opt('--upstream')
  const faults = opt('--faults') ? JSON.parse(opt('--faults')) : undefined
  startStsStub({ port, upstream, faults })
    .then((stub) => {
      process.stdout.write(JSON.stringify({ url: stub.url, port: stub.port, pid: process.pid, upstream: stub.upstream }) + '\n')
      const shutdown = () => stub.stop().then(() => process.exit(0))
      process.on('SIGTERM', shutdown)
      process.on('SIGINT', shutdown)
    })
    .catch((e) => {
      process.stderr.write(`sts-stub: ${e.message}\n`)
      process.exit(1)
    })
}

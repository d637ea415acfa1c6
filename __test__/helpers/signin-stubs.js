'use strict'
// Local stand-ins for the services behind the AWS sign-in sources, on 127.0.0.1 only, and the
// cache files the AWS CLI writes for them:
//
//   startSsoPortal({ credentialsFor })  IAM Identity Center portal, GetRoleCredentials
//       (GET /federation/credentials?account_id=&role_name=, bearer token in
//       x-amz-sso_bearer_token). Point AWS_ENDPOINT_URL_SSO at .url. Tokens it accepts:
//       portal.tokens (set of access tokens); an unknown token → 401 UnauthorizedException.
//   startSsoOidc({ portal })  IAM Identity Center OIDC, CreateToken with grantType refresh_token
//       (POST /token): renews an sso_session token. Point AWS_ENDPOINT_URL_SSO_OIDC at .url.
//       .refreshTokens: accepted refresh tokens; a new access token is added to portal.tokens.
//   startSigninService()  AWS Sign-In's token endpoint (POST /v1/token, CreateOAuth2Token with
//       grantType refresh_token and a DPoP proof). Point AWS_ENDPOINT_URL_SIGNIN at .url.
//       .refreshTokens: accepted refresh tokens; .credentialsFor(): keys it hands out.
//       The DPoP proof is verified against the public key it carries (ES256).
//   startContainerCredentials({ credentials, token })  the CodeBuild/ECS credentials endpoint
//       (AWS_CONTAINER_CREDENTIALS_FULL_URI = .uri, AWS_CONTAINER_AUTHORIZATION_TOKEN = token).
//   startInstanceMetadata({ credentials, roleName })  EC2 instance metadata, IMDSv2 (token PUT,
//       role name, role credentials). Point AWS_EC2_METADATA_SERVICE_ENDPOINT at .url (and
//       unset AWS_EC2_METADATA_DISABLED). .credentials: the keys it hands out.
//   writeSsoToken(home, id, fields)      ~/.aws/sso/cache/<sha1(id)>.json
//   writeLoginSession(home, arn, fields) ~/.aws/login/cache/<sha256(arn)>.json (with a real P-256
//       DPoP key, as `aws login` writes it)
// Each server logs its requests in .calls ({path, status, ...}) and is stopped with .stop().

const http = require('node:http')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const homeDir = (home) => (typeof home === 'string' ? home : home.home)
const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

function serve(handler) {
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const c of req) chunks.push(c)
    const body = Buffer.concat(chunks).toString('utf8')
    // An object is sent as JSON, a string as text (IMDS answers plain text).
    const send = (status, obj, headers = {}) => {
      const text = typeof obj === 'string'
      res.writeHead(status, { 'content-type': text ? 'text/plain' : 'application/json', ...headers })
      res.end(text ? obj : JSON.stringify(obj))
    }
    try {
      await handler(req, body, send)
    } catch (e) {
      send(500, { message: e.message })
    }
  })
  const sockets = new Set()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        stop: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy()
            server.close(() => r())
          }),
      })
    })
  })
}

function fakeKeys(prefix = 'ASIA') {
  return {
    accessKeyId: prefix + crypto.randomBytes(8).toString('hex').toUpperCase(),
    secretAccessKey: crypto.randomBytes(30).toString('base64'),
    sessionToken: 'IQoJb3JpZ2luX2VjE' + crypto.randomBytes(60).toString('base64'),
  }
}

/** @param {{credentialsFor?: (account: string, role: string) => Promise<object>|object}} [opts] */
async function startSsoPortal(opts = {}) {
  const portal = { calls: [], tokens: new Set(), issued: [] }
  const s = await serve(async (req, body, send) => {
    const u = new URL(req.url, 'http://portal')
    const call = {
      path: u.pathname,
      accountId: u.searchParams.get('account_id'),
      roleName: u.searchParams.get('role_name'),
      token: req.headers['x-amz-sso_bearer_token'] || null,
      status: null,
    }
    portal.calls.push(call)
    if (req.method !== 'GET' || u.pathname !== '/federation/credentials') {
      call.status = 404
      return send(404, { message: 'not found' }, { 'x-amzn-errortype': 'ResourceNotFoundException' })
    }
    if (!portal.tokens.has(call.token)) {
      call.status = 401
      return send(401, { message: 'Session token not found or invalid' }, { 'x-amzn-errortype': 'UnauthorizedException' })
    }
    const keys = { ...fakeKeys(), ...(await (opts.credentialsFor || (() => ({})))(call.accountId, call.roleName)) }
    call.status = 200
    call.accessKeyId = keys.accessKeyId
    portal.issued.push({ ...call, keys })
    send(200, {
      roleCredentials: {
        accessKeyId: keys.accessKeyId,
        secretAccessKey: keys.secretAccessKey,
        sessionToken: keys.sessionToken,
        expiration: Date.now() + 3600 * 1000,
      },
    })
  })
  return Object.assign(portal, s)
}

async function startSsoOidc({ portal }) {
  const oidc = { calls: [], refreshTokens: new Set() }
  const s = await serve(async (req, body, send) => {
    const input = JSON.parse(body || '{}')
    const call = { path: req.url, grantType: input.grantType, clientId: input.clientId, clientSecret: input.clientSecret, refreshToken: input.refreshToken, status: null }
    oidc.calls.push(call)
    if (req.method !== 'POST' || req.url !== '/token' || input.grantType !== 'refresh_token' || !oidc.refreshTokens.has(input.refreshToken)) {
      call.status = 400
      return send(400, { error: 'invalid_grant', error_description: 'Invalid refresh token provided' }, { 'x-amzn-errortype': 'InvalidGrantException' })
    }
    const accessToken = 'sso-access-' + crypto.randomBytes(8).toString('hex')
    const refreshToken = 'sso-refresh-' + crypto.randomBytes(8).toString('hex')
    oidc.refreshTokens.delete(input.refreshToken)
    oidc.refreshTokens.add(refreshToken)
    portal.tokens.add(accessToken)
    Object.assign(call, { status: 200, accessToken, newRefreshToken: refreshToken })
    send(200, { accessToken, expiresIn: 3600, refreshToken, tokenType: 'Bearer' })
  })
  return Object.assign(oidc, s)
}

// base64url JSON of a JWS part
const part = (p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))

async function startSigninService(opts = {}) {
  const svc = { calls: [], refreshTokens: new Set(), credentialsFor: opts.credentialsFor || (() => ({})), expiresIn: 900 }
  const s = await serve(async (req, body, send) => {
    const call = { path: req.url, method: req.method, status: null, dpop: null, grantType: null, error: null }
    svc.calls.push(call)
    const deny = (status, type, error, message) => {
      call.status = status
      call.error = error
      send(status, { error, message }, { 'x-amzn-errortype': type })
    }
    if (req.method !== 'POST' || req.url !== '/v1/token') return deny(404, 'ValidationException', 'invalid_request', 'not found')
    const input = JSON.parse(body || '{}')
    call.grantType = input.grantType
    call.clientId = input.clientId
    call.refreshToken = input.refreshToken
    // DPoP (RFC 9449): a JWS signed with the session's key, carrying its public half.
    const proof = req.headers.dpop
    if (!proof) return deny(400, 'ValidationException', 'invalid_request', 'missing DPoP proof')
    const [h, p, sig] = proof.split('.')
    const header = part(h)
    const payload = part(p)
    const key = crypto.createPublicKey({ key: header.jwk, format: 'jwk' })
    const valid = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'))
    call.dpop = { valid, typ: header.typ, alg: header.alg, htm: payload.htm, htu: payload.htu, thumbprint: thumbprint(header.jwk) }
    if (!valid) return deny(400, 'ValidationException', 'invalid_request', 'DPoP proof signature does not verify')
    if (input.grantType !== 'refresh_token' || !svc.refreshTokens.has(input.refreshToken)) {
      return deny(400, 'AccessDeniedException', 'TOKEN_EXPIRED', 'Session expired')
    }
    const keys = { ...fakeKeys(), ...(await svc.credentialsFor()) }
    const refreshToken = 'refresh-' + crypto.randomBytes(12).toString('hex')
    svc.refreshTokens.delete(input.refreshToken)
    svc.refreshTokens.add(refreshToken)
    call.status = 200
    call.accessKeyId = keys.accessKeyId
    call.newRefreshToken = refreshToken
    send(200, {
      accessToken: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, sessionToken: keys.sessionToken },
      tokenType: 'aws_sigv4',
      expiresIn: svc.expiresIn,
      refreshToken,
    })
  })
  return Object.assign(svc, s)
}

/** RFC 7638 thumbprint of a P-256 public JWK, to tie a DPoP proof to the key in the cache file. */
function thumbprint(jwk) {
  return crypto.createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url')
}

async function startContainerCredentials({ credentials, token } = {}) {
  const c = { calls: [], credentials: credentials || { ...fakeKeys(), expiration: new Date(Date.now() + 6 * 3600 * 1000) }, token: token || null }
  const s = await serve(async (req, body, send) => {
    const call = { path: req.url, authorization: req.headers.authorization || null, userAgent: req.headers['user-agent'] || null, status: null }
    c.calls.push(call)
    if (c.token && call.authorization !== c.token) {
      call.status = 403
      return send(403, { code: 'AccessDenied', message: 'wrong authorization token' })
    }
    call.status = 200
    send(200, {
      AccessKeyId: c.credentials.accessKeyId,
      SecretAccessKey: c.credentials.secretAccessKey,
      Token: c.credentials.sessionToken,
      Expiration: iso(c.credentials.expiration),
    })
  })
  return Object.assign(c, s, { uri: `${s.url}/v2/credentials/task-1234` })
}

/**
 * The EC2 instance metadata service, IMDSv2 only (as AWS recommends instances be set up): PUT
 * /latest/api/token → a session token; GET /latest/meta-data/iam/security-credentials/ → the
 * instance role's name; GET …/<role> → its credentials. A GET without a valid token → 401.
 */
async function startInstanceMetadata({ credentials, roleName = 'ci-instance-role' } = {}) {
  const m = { calls: [], tokens: new Set(), roleName, credentials: credentials || { ...fakeKeys(), expiration: new Date(Date.now() + 6 * 3600 * 1000) } }
  const base = '/latest/meta-data/iam/security-credentials/'
  const s = await serve(async (req, body, send) => {
    const token = req.headers['x-aws-ec2-metadata-token'] || null
    const call = { method: req.method, path: req.url, token, status: null }
    m.calls.push(call)
    const reply = (status, obj, headers) => {
      call.status = status
      send(status, obj, headers)
    }
    if (req.url === '/latest/api/token') {
      const ttl = req.headers['x-aws-ec2-metadata-token-ttl-seconds']
      if (req.method !== 'PUT' || !ttl) return reply(400, 'Bad Request')
      const t = 'imds-token-' + crypto.randomBytes(8).toString('hex')
      m.tokens.add(t)
      return reply(200, t, { 'x-aws-ec2-metadata-token-ttl-seconds': ttl })
    }
    if (req.method !== 'GET') return reply(405, 'Method Not Allowed')
    if (!m.tokens.has(token)) return reply(401, 'Unauthorized')
    if (req.url === base) return reply(200, m.roleName)
    if (req.url === base + m.roleName) {
      return reply(200, {
        Code: 'Success',
        LastUpdated: iso(new Date()),
        Type: 'AWS-HMAC',
        AccessKeyId: m.credentials.accessKeyId,
        SecretAccessKey: m.credentials.secretAccessKey,
        Token: m.credentials.sessionToken,
        Expiration: iso(m.credentials.expiration),
      })
    }
    return reply(404, 'Not Found')
  })
  return Object.assign(m, s)
}

/** ~/.aws/sso/cache/<sha1(id)>.json as `aws sso login` writes it; id = sso_session name or start URL. */
function writeSsoToken(home, id, { accessToken, expiresAt, startUrl, region = 'us-east-1', ...rest } = {}) {
  const dir = path.join(homeDir(home), '.aws', 'sso', 'cache')
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, crypto.createHash('sha1').update(id).digest('hex') + '.json')
  const token = { startUrl, region, accessToken, expiresAt: iso(expiresAt), ...rest }
  fs.writeFileSync(file, JSON.stringify(token), { mode: 0o600 })
  return file
}

/**
 * ~/.aws/login/cache/<sha256(arn)>.json as `aws login` writes it, with a fresh P-256 DPoP key.
 * @returns {{file: string, thumbprint: string}}
 */
function writeLoginSession(home, arn, { keys, accountId, expiresAt, refreshToken, dir } = {}) {
  const cacheDir = dir || path.join(homeDir(home), '.aws', 'login', 'cache')
  fs.mkdirSync(cacheDir, { recursive: true })
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const k = keys || fakeKeys()
  const token = {
    accessToken: {
      accessKeyId: k.accessKeyId,
      secretAccessKey: k.secretAccessKey,
      sessionToken: k.sessionToken || fakeKeys().sessionToken,
      accountId,
      expiresAt: iso(expiresAt),
    },
    tokenType: 'aws_sigv4',
    refreshToken,
    idToken: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
    clientId: 'arn:aws:signin:::devtools/same-device',
    dpopKey: privateKey.export({ type: 'sec1', format: 'pem' }),
  }
  const file = path.join(cacheDir, crypto.createHash('sha256').update(arn.trim()).digest('hex') + '.json')
  fs.writeFileSync(file, JSON.stringify(token, null, 2), { mode: 0o600 })
  return { file, thumbprint: thumbprint(publicKey.export({ format: 'jwk' })) }
}

module.exports = { startSsoPortal, startSsoOidc, startSigninService, startContainerCredentials, startInstanceMetadata, writeSsoToken, writeLoginSession, fakeKeys }

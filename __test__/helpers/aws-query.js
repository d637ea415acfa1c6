'use strict'
// Minimal AWS Query-protocol client (STS, IAM, CloudFormation, ...) for tests.
// It does NOT sign: it sends a syntactically valid SigV4 Authorization header with a
// dummy signature. That is enough for moto (which never verifies signatures, but
// uses the Credential=<key>/<date>/<region>/<service>/ part to route the request
// and to map the key to an account) and for the STS stub.

const http = require('node:http')

/**
 * @param {string} endpoint  e.g. http://127.0.0.1:5000
 * @param {string} service   signing name: 'sts' | 'iam' | 'cloudformation' | ...
 * @param {Record<string,string|number>} params  Query params incl. Action (Version defaults per service)
 * @param {{accessKeyId?: string, sessionToken?: string, region?: string, headers?: object, timeoutMs?: number}} [opts]
 * @returns {Promise<{status: number, body: string, headers: object}>}
 */
function awsQuery(endpoint, service, params, opts = {}) {
  const versions = { sts: '2011-06-15', iam: '2010-05-08', cloudformation: '2010-05-15', sqs: '2012-11-05' }
  const p = { Version: versions[service], ...params }
  for (const k of Object.keys(p)) if (p[k] === undefined || p[k] === null) delete p[k]
  const body = new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)])).toString()
  const accessKeyId = opts.accessKeyId || 'AKIAIOSFODNN7EXAMPLE'
  const region = opts.region || 'us-east-1'
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
  const headers = {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-amz-date': amzDate,
    authorization:
      `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${amzDate.slice(0, 8)}/${region}/${service}/aws4_request, ` +
      `SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
    ...opts.headers,
  }
  if (opts.sessionToken) headers['x-amz-security-token'] = opts.sessionToken
  const url = new URL('/', endpoint)
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, timeout: opts.timeoutMs ?? 30000 }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`awsQuery ${p.Action} timed out`)))
    req.on('error', reject)
    req.end(body)
  })
}

/** First text content of <tag>…</tag>, or null. */
function xmlValue(xml, tag) {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)
  return m ? m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&') : null
}

/** All text contents of <tag>…</tag>. */
function xmlValues(xml, tag) {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1])
}

/** {accessKeyId, secretAccessKey, sessionToken, expiration: Date} from an STS answer. */
function parseCredentials(xml) {
  const c = xmlValue(xml, 'Credentials')
  if (!c) return null
  return {
    accessKeyId: xmlValue(c, 'AccessKeyId'),
    secretAccessKey: xmlValue(c, 'SecretAccessKey'),
    sessionToken: xmlValue(c, 'SessionToken'),
    expiration: new Date(xmlValue(c, 'Expiration')),
  }
}

/** {type, code, message, requestId} from an <ErrorResponse>, or null. */
function parseError(xml) {
  if (!/<ErrorResponse/.test(xml)) return null
  return { type: xmlValue(xml, 'Type'), code: xmlValue(xml, 'Code'), message: xmlValue(xml, 'Message'), requestId: xmlValue(xml, 'RequestId') }
}

module.exports = { awsQuery, xmlValue, xmlValues, parseCredentials, parseError }

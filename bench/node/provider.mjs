// node-oidc-provider 9 configured for the same token exchange as Sesame's bench client:
// client_secret_basic, PKCE S256, RS256 ID token, RS256 JWT access token (through a resource
// server, the only way oidc-provider issues JWT access tokens), a rotated refresh token.
//
// The quick-start memory adapter is an LRU of 1000 entries that evicts codes under load; this
// one is an unbounded Map, so every minted code survives until it is used.
//
// With BENCH_NODE_STORE=redis the store is Redis instead (redis_adapter.mjs), as a deployment
// of more than one instance, or one that must survive a restart, would run it.
//
// POST /bench/mint?n=N (not timed) mints N codes for the bench account the way an interaction
// would (a Grant with the scopes, then an AuthorizationCode bound to it) and answers them one
// per line. Usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI CHALLENGE
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
import { RedisAdapter, forgetEverything } from './redis_adapter.mjs';

const [port, clientId, clientSecret, redirectUri, challenge] = process.argv.slice(2);
const issuer = `http://localhost:${port}`;
const RESOURCE = 'https://api.bench.example';

const store = new Map();
class MapAdapter {
  constructor(model) { this.model = model; }
  key(id) { return `${this.model}:${id}`; }
  async upsert(id, payload) {
    store.set(this.key(id), payload);
    if (payload.grantId) {
      const members = store.get(`grant:${payload.grantId}`) ?? [];
      members.push(this.key(id));
      store.set(`grant:${payload.grantId}`, members);
    }
  }
  async find(id) { return store.get(this.key(id)); }
  async findByUid(uid) {
    for (const [key, value] of store) {
      if (key.startsWith(`${this.model}:`) && value.uid === uid) return value;
    }
    return undefined;
  }
  async findByUserCode() { return undefined; }
  async consume(id) { store.get(this.key(id)).consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const key of store.get(`grant:${grantId}`) ?? []) store.delete(key);
    store.delete(`grant:${grantId}`);
  }
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  adapter: process.env.BENCH_NODE_STORE === 'redis' ? RedisAdapter : MapAdapter,
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [jwk] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: 'ada@example.com', email_verified: true, name: 'Ada' }),
  }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  pkce: { required: () => true },
  ttl: {
    AccessToken: 600, AuthorizationCode: 600, Grant: 86400, IdToken: 3600, RefreshToken: 86400,
  },
});

provider.use(async (ctx, next) => {
  if (ctx.path !== '/bench/mint') return next();
  const n = Number(ctx.query.n ?? 1);
  const client = await provider.Client.find(clientId);
  const codes = [];
  for (let i = 0; i < n; i += 1) {
    const grant = new provider.Grant({ accountId: 'ada', clientId });
    grant.addOIDCScope('openid profile email');
    grant.addResourceScope(RESOURCE, 'api');
    const grantId = await grant.save();
    const code = new provider.AuthorizationCode({
      accountId: 'ada',
      authTime: Math.floor(Date.now() / 1000),
      client,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      grantId,
      nonce: 'n',
      redirectUri,
      resource: RESOURCE,
      scope: 'openid profile email api',
    });
    codes.push(await code.save());
  }
  ctx.type = 'text/plain';
  ctx.body = `${codes.join('\n')}\n`;
  return undefined;
});

if (process.env.BENCH_DEBUG) provider.on('grant.error', (ctx, err) => console.error(err.error_detail ?? err));

const server = provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
process.on('SIGTERM', async () => {
  server.close();
  if (process.env.BENCH_NODE_STORE === 'redis') await forgetEverything();
  process.exit(0);
});

// A Redis store for node-oidc-provider (its adapter interface: upsert, find, findByUid,
// findByUserCode, consume, destroy, revokeByGrantId), so that compare.py can also set Sesame
// against a node-oidc-provider that keeps codes, grants and tokens outside its process, as a
// deployment with more than one instance or a restart to survive must.
//
// Each item is a hash (its JSON payload, and when it was consumed) that expires with the item;
// what belongs to a grant is listed under the grant, so revoking the grant deletes it all.
// Keys are prefixed; every key of the prefix is deleted when the process is told to stop.
import Redis from 'ioredis';

const url = process.env.BENCH_NODE_REDIS ?? 'redis://127.0.0.1:6379/0';
const prefix = `bench-node:${process.pid}:`;
let client;  // connected on first use: the Map store never connects
const connection = () => {
  client ??= new Redis(url, { keyPrefix: prefix, enableAutoPipelining: true });
  return client;
};

const grantKey = (id) => `grant:${id}`;
const uidKey = (uid) => `uid:${uid}`;

export class RedisAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const multi = connection().multi();
    multi.hset(key, 'payload', JSON.stringify(payload));
    if (expiresIn) multi.expire(key, expiresIn);
    if (payload.grantId) {
      multi.rpush(grantKey(payload.grantId), key);
      if (expiresIn) {  // the list lives as long as its longest-lived item
        multi.expire(grantKey(payload.grantId), expiresIn, 'NX');
        multi.expire(grantKey(payload.grantId), expiresIn, 'GT');
      }
    }
    if (payload.uid) {
      multi.set(uidKey(payload.uid), id);
      if (expiresIn) multi.expire(uidKey(payload.uid), expiresIn);
    }
    await multi.exec();
  }

  async find(id) {
    const found = await connection().hgetall(this.key(id));
    if (!found || !found.payload) return undefined;
    const payload = JSON.parse(found.payload);
    if (found.consumed) payload.consumed = Number(found.consumed);
    return payload;
  }

  async findByUid(uid) {
    const id = await connection().get(uidKey(uid));
    return id ? this.find(id) : undefined;
  }

  async findByUserCode() { return undefined; }

  async consume(id) {
    await connection().hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
  }

  async destroy(id) { await connection().del(this.key(id)); }

  async revokeByGrantId(grantId) {
    const keys = await connection().lrange(grantKey(grantId), 0, -1);  // listed without the prefix
    await connection().del(...keys, grantKey(grantId));
  }
}

export async function forgetEverything() {
  if (!client) return;
  const stream = client.scanStream({ match: `${prefix}*`, count: 1000 });
  for await (const keys of stream) {
    // SCAN answers keys with the prefix, which ioredis would add again
    if (keys.length) await client.del(...keys.map((k) => k.slice(prefix.length)));
  }
  client.disconnect();
}

// Replay protection shared by every app instance: SET NX with the nonce's lifetime, in Redis.
import type { NonceStore } from '@wxgate/internal-api'
import type { Redis } from 'ioredis'

export function createRedisNonceStore(
  redis: Redis,
  { prefix = 'wxgate:app:nonce:' } = {},
): NonceStore {
  return {
    async claim(nonce, ttlS) {
      const result = await redis.set(prefix + nonce, '1', 'EX', ttlS, 'NX')
      return result === 'OK'
    },
  }
}

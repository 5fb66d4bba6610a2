// Closing a Redis client at shutdown, also while Redis is away.
//
// ioredis's `quit()` sends QUIT and waits for the answer: with Redis down it throws (offline queue off) or
// waits for a reconnection that may never come (offline queue on), and either way the service's close,
// and with it the exit code of a SIGTERM, failed. A client that is not connected is simply disconnected.

/** The part of an ioredis client this needs (service-kit does not depend on ioredis). */
export interface ClosableRedis {
  readonly status: string
  quit(): Promise<unknown>
  disconnect(): void
}

/** Quits politely when connected, else disconnects; never throws. */
export async function closeRedisClient(redis: ClosableRedis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit()
      return
    } catch {
      // Lost between the check and QUIT: disconnect below.
    }
  }
  redis.disconnect()
}

// Exponential back-off with jitter, for reconnecting chat sockets and
// restarting live playback or pushing.

/**
 * Backoff yields growing delays: min, min*factor, … up to max, each with up to
 * `jitter` (a fraction) taken off at random so that many clients do not retry
 * in step. reset() starts over after a success.
 */
class Backoff {
  constructor({ min = 1000, max = 30000, factor = 2, jitter = 0.2, random = Math.random } = {}) {
    if (!(min > 0) || !(max >= min) || !(factor >= 1)) {
      throw new Error(`backoff: need 0 < min <= max and factor >= 1 (got min=${min} max=${max} factor=${factor})`)
    }
    this.min = min
    this.max = max
    this.factor = factor
    this.jitter = jitter
    this.random = random
    this.attempt = 0
  }

  /** next returns the delay in ms before the next attempt, and counts it. */
  next() {
    const base = Math.min(this.max, this.min * Math.pow(this.factor, this.attempt))
    this.attempt++
    return Math.round(base * (1 - this.jitter * this.random()))
  }

  /** reset forgets the attempts made so far. */
  reset() {
    this.attempt = 0
  }
}

module.exports = { Backoff }

/**
 * `ManualClock`: time that moves only when told, so windows, rules,
 * cooldowns and emergency transitions can be tested deterministically.
 */
import native = require('./native')
import type { NativeManualClock } from '../native'
import { call, checkNumber } from './errors'

/** Something whose pending records must reach the core before time moves. */
interface ClockUser {
  flush(): void
}

/** A clock for tests: `new Monitor({ clock: new ManualClock() })`. */
export class ManualClock {
  /** @internal */
  readonly native: NativeManualClock
  private readonly users = new Set<WeakRef<ClockUser>>()

  /** A clock standing at `startMs` milliseconds since the epoch (default 0). */
  constructor(startMs = 0) {
    checkNumber('startMs', startMs)
    this.native = call(() => new native.NativeManualClock(startMs))
  }

  /** The current time, in ms since the epoch. */
  now(): number {
    return this.native.now()
  }

  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    checkNumber('ms', ms)
    this._flushUsers()
    call(() => this.native.advance(ms))
  }

  /** Moves time to `ms` since the epoch (a time in the past is ignored). */
  set(ms: number): void {
    checkNumber('ms', ms)
    this._flushUsers()
    call(() => this.native.set(ms))
  }

  /** @internal Registers a monitor whose buffers must be flushed before time moves. */
  _attach(user: ClockUser): void {
    this.users.add(new WeakRef(user))
  }

  /** Values recorded before time moves belong to the time they were recorded at. */
  private _flushUsers(): void {
    for (const ref of this.users) {
      const user = ref.deref()
      if (user === undefined) this.users.delete(ref)
      else user.flush()
    }
  }
}

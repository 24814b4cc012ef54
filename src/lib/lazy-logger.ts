import type { FastifyBaseLogger } from 'fastify'

type Bindings = Record<string, unknown>
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1]
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/** pino's `isLevelEnabled`; loggers without it (tests' stubs) are treated as logging everything. */
const enabled = (logger: FastifyBaseLogger, level: Level): boolean => {
  const check = (logger as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled
  return check ? check.call(logger, level) : true
}

/**
 * A child logger made only when something is logged through it. Every request gets a child (its
 * request id, then the user), and with pino each child serialises its bindings at once: most requests
 * log nothing below the configured level, so that work was done for nothing. Children of a lazy child
 * merge their bindings until one is needed; the lines written are the same as with real children.
 */
export class LazyLogger implements FastifyBaseLogger {
  #real: FastifyBaseLogger | null = null
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #options: ChildOptions

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options?: ChildOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  #materialise(): FastifyBaseLogger {
    if (!this.#real) this.#real = this.#parent.child(this.#bindings, this.#options)
    return this.#real
  }

  get level(): string {
    return this.#real ? this.#real.level : (this.#options?.level ?? this.#parent.level)
  }

  set level(level: string) {
    this.#materialise().level = level
  }

  #log(level: Level, args: unknown[]) {
    // Options (a route's log level, serializers) can change what is enabled: ask the real child then
    if (this.#real || this.#options || enabled(this.#parent, level)) {
      ;(this.#materialise()[level] as (...a: unknown[]) => void)(...args)
    }
  }

  fatal(...args: unknown[]) {
    this.#log('fatal', args)
  }
  error(...args: unknown[]) {
    this.#log('error', args)
  }
  warn(...args: unknown[]) {
    this.#log('warn', args)
  }
  info(...args: unknown[]) {
    this.#log('info', args)
  }
  debug(...args: unknown[]) {
    this.#log('debug', args)
  }
  trace(...args: unknown[]) {
    this.#log('trace', args)
  }
  silent(..._args: unknown[]) {}

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    if (this.#real || options || this.#options) return this.#materialise().child(bindings, options)
    return new LazyLogger(this.#parent, { ...this.#bindings, ...bindings })
  }
}

/** Fastify's `childLoggerFactory`: the request's child logger, made lazily. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions) {
  const hasOptions = options && Object.keys(options).length > 0
  return new LazyLogger(logger, bindings, hasOptions ? options : undefined)
}

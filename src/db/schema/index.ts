export * from './identity.js'
export * from './jobs.js'
export * from './tickets.js'

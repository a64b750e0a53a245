export * from './store.js';
export * from './company.js';
export * from './errors.js';
export * from './ml.js';
export * from './timeframe.js';
export * from './api.js';
export * from './api-billing.js';
export * from './seeded-random.js';

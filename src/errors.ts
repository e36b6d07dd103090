// The error catalogue: every failure a client can cause, with its status and message. Each area has
// its file under errors/; code imports from here alone, so it need not know which area an error
// belongs to. Code throws these; http/error-handler.ts turns them into responses in one place.
export * from './errors/app-error.js';
export * from './errors/image.js';
export * from './errors/upload.js';
export * from './errors/serving.js';
export * from './errors/access.js';
export * from './errors/request.js';
export * from './errors/operations.js';

export { loadConfig, type FerryConfig } from './config.js';
export { ConfigError, parseVariables, SECRET_VARIABLES, type LoadOptions } from './load-config.js';
export { redactUrlCredentials } from './redact-url.js';
export { Secret } from './secret.js';
export { VARIABLES, type VariableName, type VariableSpec } from './variables.js';

// @opsctl/endpoint: the public API. Everything else is internal.
export { createMaintenanceEndpoint, type EndpointAddress, type MaintenanceEndpoint } from './endpoint.js';
export type { EndpointOptions, LimitOptions, PublicRouteName, TokenConfig } from './options.js';
export type { ActionContext, ActionDefinition, ActionParamDefinition, ActionParams } from './actions/definitions.js';
export type { CaptureOptions, CaptureRuleOptions } from './diagnostics/capture.js';
export { parseTokenList } from './options.js';
export { EndpointConfigError } from './errors.js';
export { stderrAuditSink, type AuditEvent, type AuditSink } from './audit.js';
export { generateToken, hashToken, isWellFormedToken } from './tokens.js';
export { SCOPES, type Scope } from './protocol/index.js';

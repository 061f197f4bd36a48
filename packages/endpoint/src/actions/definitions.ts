// Application actions: named maintenance commands the application defines (flush a
// cache, reload configuration, drain a queue), each with a description and a parameter
// schema. resolveActions() checks the definitions once and reports every problem;
// parseActionParams() turns what a caller sent into typed values, or one sentence that
// names the parameter and what is wrong with it.
import { ACTION_NAME_PATTERN, ACTION_TIMEOUT_MAX_MS, type ActionInfo, type ActionParamInfo, type ActionParamType } from '../protocol/index.js';

/** Most maintenance commands take seconds; a stuck one must not hold its caller forever. */
const ACTION_TIMEOUT_MS = 30_000;
// ACTION_TIMEOUT_MAX_MS (10 min, protocol/actions.ts): longer work belongs in a job the action starts, not in an open request.
/** Two operators running the same "reindex" at once is rarely what either wants. */
const ACTION_CONCURRENCY = 1;
/** Parameter values quoted in the audit log are cut here: enough to recognise, not a data dump. */
const AUDIT_VALUE_CHARS = 200;

const PARAM_TYPES: readonly ActionParamType[] = ['string', 'number', 'boolean', 'enum'];
// Safe as the key of `opsctl run NAME key=value`.
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

export interface ActionParamDefinition {
  type: ActionParamType;
  description?: string;
  required?: boolean;
  /** Used when the caller does not give the parameter; must have the parameter's type. */
  default?: string | number | boolean;
  /** The allowed values of an `enum`. */
  values?: readonly string[];
  /** Never write this parameter's value to the audit log (keys, passwords). */
  secret?: boolean;
}

export type ActionParams = Readonly<Record<string, string | number | boolean | undefined>>;

export interface ActionContext {
  /** Aborted when the time limit passes, the caller goes away or the endpoint closes. */
  signal: AbortSignal;
  /** The name of the token that runs the action (as in the audit log). */
  caller: string;
}

export interface ActionDefinition {
  description: string;
  params?: Record<string, ActionParamDefinition>;
  /** Does the work; what it returns (or resolves with) is sent to the caller as JSON. */
  run(params: ActionParams, context: ActionContext): unknown;
  /** Default ACTION_TIMEOUT_MS (30 s), at most ACTION_TIMEOUT_MAX_MS (10 min). */
  timeoutMs?: number;
  /** Runs allowed at once; default 1. */
  concurrency?: number;
}

interface ResolvedParam {
  type: ActionParamType;
  description: string | null;
  required: boolean;
  default: string | number | boolean | undefined;
  values: readonly string[];
  secret: boolean;
}

export interface ResolvedAction {
  name: string;
  description: string;
  params: Readonly<Record<string, Readonly<ResolvedParam>>>;
  run: ActionDefinition['run'];
  timeoutMs: number;
  concurrency: number;
}

/** Checks the `actions` option; adds a sentence per problem to `problems`. */
export function resolveActions(input: unknown, problems: string[]): ReadonlyMap<string, ResolvedAction> {
  const actions = new Map<string, ResolvedAction>();
  if (!isPlainObject(input)) {
    problems.push('`actions` must be an object of named actions, e.g. { "flush-cache": { description, params, run } }');
    return actions;
  }
  for (const [name, definition] of Object.entries(input)) {
    const where = `\`actions["${name}"]\``;
    if (!ACTION_NAME_PATTERN.test(name))
      problems.push(`${where}: an action's name must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
    if (!isPlainObject(definition)) {
      problems.push(`${where} must be an object { description, params, run }`);
      continue;
    }
    const { description, run, timeoutMs = ACTION_TIMEOUT_MS, concurrency = ACTION_CONCURRENCY } = definition as Partial<ActionDefinition>;
    if (typeof description !== 'string' || description.trim() === '') problems.push(`${where}.description must say in a sentence what the action does`);
    if (typeof run !== 'function') problems.push(`${where}.run must be a function (params, { signal }) => result`);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > ACTION_TIMEOUT_MAX_MS) {
      problems.push(
        `${where}.timeoutMs must be a whole number of milliseconds from 1 to ${ACTION_TIMEOUT_MAX_MS}; longer work belongs in a job the action starts`,
      );
    }
    if (!Number.isInteger(concurrency) || concurrency <= 0) problems.push(`${where}.concurrency must be a positive whole number`);
    const params = resolveParams(where, (definition as Partial<ActionDefinition>).params ?? {}, problems);
    // Bound: a `run() { this.… }` method keeps the application's object as `this`.
    const bound = typeof run === 'function' ? run.bind(definition) : (run as unknown as ActionDefinition['run']);
    actions.set(name, Object.freeze({ name, description: String(description ?? ''), params, run: bound, timeoutMs, concurrency }));
  }
  return actions;
}

function resolveParams(where: string, input: unknown, problems: string[]): Readonly<Record<string, Readonly<ResolvedParam>>> {
  const params: Record<string, Readonly<ResolvedParam>> = {};
  if (!isPlainObject(input)) {
    problems.push(`${where}.params must be an object of parameter definitions, e.g. { key: { type: "string", required: true } }`);
    return params;
  }
  for (const [key, definition] of Object.entries(input)) {
    const at = `${where}.params.${key}`;
    if (!PARAM_NAME.test(key)) problems.push(`${at}: a parameter's name must be 1-64 letters, digits, "_" or "-", starting with a letter or "_"`);
    if (!isPlainObject(definition)) {
      problems.push(`${at} must be an object such as { type: "string" }`);
      continue;
    }
    const { type, description, required = false, values, secret = false } = definition as Partial<ActionParamDefinition>;
    const fallback = (definition as Partial<ActionParamDefinition>).default;
    if (!PARAM_TYPES.includes(type as ActionParamType)) problems.push(`${at}.type must be one of ${PARAM_TYPES.join(', ')}, not ${JSON.stringify(type)}`);
    if (description !== undefined && typeof description !== 'string') problems.push(`${at}.description must be a string`);
    if (typeof required !== 'boolean') problems.push(`${at}.required must be true or false`);
    if (typeof secret !== 'boolean') problems.push(`${at}.secret must be true or false`);
    let allowed: readonly string[] = [];
    if (type === 'enum') {
      if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string' && v !== '')) {
        problems.push(`${at}.values must list the enum's allowed values as non-empty strings`);
      } else allowed = Object.freeze([...values]);
    } else if (values !== undefined) problems.push(`${at}.values is only for type "enum"`);
    if (fallback !== undefined) {
      if (required === true) problems.push(`${at} is required and has a default; drop one of them`);
      const checked = PARAM_TYPES.includes(type as ActionParamType) ? coerce(fallback, type as ActionParamType, allowed) : null;
      if (checked === null || typeof checked === 'object') problems.push(`${at}.default must be ${expected(type as ActionParamType, allowed)}`);
    }
    params[key] = Object.freeze({
      type: type as ActionParamType,
      description: typeof description === 'string' ? description : null,
      required: required === true,
      default: fallback,
      values: allowed,
      secret: secret === true,
    });
  }
  return Object.freeze(params);
}

export type ParsedParams = { ok: true; params: ActionParams } | { ok: false; param: string | null; message: string };

/**
 * The caller's parameters, typed by the schema, with defaults filled in. Numbers and
 * booleans may come as strings ("42", "true"): what `opsctl run name key=value` sends.
 */
export function parseActionParams(action: ResolvedAction, raw: unknown): ParsedParams {
  if (raw === undefined || raw === null) raw = {};
  if (!isPlainObject(raw)) return { ok: false, param: null, message: 'The body\'s "params" must be an object of parameter values.' };
  const names = Object.keys(action.params);
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(action.params, key)) {
      const takes = names.length === 0 ? 'it takes none' : `it takes ${names.join(', ')}`;
      return { ok: false, param: key, message: `The action "${action.name}" has no parameter "${key.slice(0, 64)}"; ${takes}.` };
    }
  }
  const params: Record<string, string | number | boolean | undefined> = {};
  for (const [key, param] of Object.entries(action.params)) {
    const given = (raw as Record<string, unknown>)[key];
    if (given === undefined) {
      if (param.required) return { ok: false, param: key, message: `The parameter "${key}" is required${param.description ? ` (${param.description})` : ''}.` };
      params[key] = param.default;
      continue;
    }
    const value = coerce(given, param.type, param.values);
    if (value === null) {
      const shown = param.secret ? '' : `, not ${JSON.stringify(given).slice(0, 40)}`;
      return { ok: false, param: key, message: `The parameter "${key}" must be ${expected(param.type, param.values)}${shown}.` };
    }
    params[key] = value;
  }
  return { ok: true, params: Object.freeze(params) };
}

/** The value as the type wants it, or null when it is not one. */
function coerce(value: unknown, type: ActionParamType, values: readonly string[]): string | number | boolean | null {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : null;
    case 'enum':
      return typeof value === 'string' && values.includes(value) ? value : null;
    case 'number': {
      if (typeof value === 'number') return Number.isFinite(value) ? value : null;
      if (typeof value !== 'string' || value.trim() === '') return null;
      const n = Number(value);
      return Number.isFinite(n) ? n : null;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      return null;
  }
}

function expected(type: ActionParamType, values: readonly string[]): string {
  switch (type) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${values.join(', ')}`;
    default:
      return 'one of the types string, number, boolean, enum';
  }
}

/** What GET /actions shows of an action. */
export function describeAction(action: ResolvedAction): ActionInfo {
  const params: Record<string, ActionParamInfo> = {};
  for (const [key, param] of Object.entries(action.params)) {
    params[key] = {
      type: param.type,
      description: param.description,
      required: param.required,
      ...(param.default === undefined ? {} : { default: param.default }),
      ...(param.type === 'enum' ? { values: [...param.values] } : {}),
      secret: param.secret,
    };
  }
  return { name: action.name, description: action.description, params, timeoutMs: action.timeoutMs, concurrency: action.concurrency };
}

/** The parameters as the audit log shows them: secrets hidden, long values cut. */
export function auditParams(action: ResolvedAction, params: ActionParams): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (action.params[key]?.secret) shown[key] = '[secret]';
    else shown[key] = typeof value === 'string' && value.length > AUDIT_VALUE_CHARS ? `${value.slice(0, AUDIT_VALUE_CHARS)}…` : value;
  }
  return shown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

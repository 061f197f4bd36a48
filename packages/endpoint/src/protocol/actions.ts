// Application actions as GET /actions lists them and POST /actions/NAME answers.

export type ActionParamType = 'string' | 'number' | 'boolean' | 'enum';
/** The longest time limit an action may have: the endpoint answers a run within it. */
export const ACTION_TIMEOUT_MAX_MS = 10 * 60_000;

/** One parameter of an action, as GET /actions lists it. */
export interface ActionParamInfo {
  type: ActionParamType;
  description: string | null;
  required: boolean;
  /** Applied when the parameter is not given; absent when there is none. */
  default?: string | number | boolean;
  /** The allowed values of an `enum`. */
  values?: string[];
  /** Its value is never written to the audit log. */
  secret: boolean;
}

export interface ActionInfo {
  name: string;
  description: string;
  params: Record<string, ActionParamInfo>;
  timeoutMs: number;
  /** Runs of this action allowed at once; more are refused with 429. */
  concurrency: number;
}

export interface ActionsResponse {
  actions: ActionInfo[];
}

export interface ActionRunResponse {
  action: string;
  /** What the action returned, as JSON (undefined becomes null). */
  result: unknown;
  durationMs: number;
}

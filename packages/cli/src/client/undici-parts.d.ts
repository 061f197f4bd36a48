// Declarations for the undici files client/undici.ts loads by path; their types are
// undici's own, as its index exports them.
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}
declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  const request: Dispatcher['request'];
  export default request;
}
declare module 'undici/lib/api/api-upgrade.js' {
  import type { Dispatcher } from 'undici';
  const upgrade: Dispatcher['upgrade'];
  export default upgrade;
}
